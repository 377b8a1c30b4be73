"""`GET /api/v1/intakes/{id}/fhir`: one intake as a FHIR R4 Bundle, for the clinic's EHR."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from service.fhir import FHIR_JSON, intake_bundle
from service.intake import IntakeService
from service.staff import Role
from service.web.access import audit_read
from service.web.api.openapi import staff_operation
from service.web.api.staff import IntakeId
from service.web.dependencies import AppSettings


class FhirResource(msgspec.Struct):
    """One resource of the Bundle (its other fields as FHIR R4 defines them)."""

    resourceType: Literal[  # noqa: N815 - FHIR's own field name
        "Patient", "QuestionnaireResponse", "RiskAssessment", "Flag", "Task", "DocumentReference"
    ]


class FhirBundleEntry(msgspec.Struct):
    fullUrl: str  # noqa: N815 - FHIR's own field name
    resource: FhirResource


class FhirBundle(msgspec.Struct):
    """The outline of the answer, for the schema: a FHIR R4 Bundle of type `collection`."""

    resourceType: Literal["Bundle"]  # noqa: N815 - FHIR's own field name
    type: Literal["collection"]
    timestamp: str
    entry: list[FhirBundleEntry]


_documented = staff_operation([Role.DOCTOR, Role.ADMIN], 400, 404)
_documented["responses"][200] = ResponseSpec(
    data_container=FhirBundle,
    media_type=FHIR_JSON,
    description="Patient, QuestionnaireResponse, RiskAssessment, one Flag per current red flag, "
    "the queue's Task and a DocumentReference to the PDF",
    generate_examples=False,
)


@get(
    "/api/v1/intakes/{intake_id:uuid}/fhir",
    operation_id="getIntakeFhirBundle",
    tags=["staff"],
    summary="The intake as a FHIR R4 Bundle (collection)",
    media_type=FHIR_JSON,
    **_documented,
)
async def intake_fhir(
    request: Request[Any, Any, Any],
    intake_id: IntakeId,
    intakes: NamedDependency[IntakeService],
    settings: AppSettings,
) -> dict[str, Any]:
    """Patient, QuestionnaireResponse, RiskAssessment, one Flag per current red flag, the
    queue's Task and a DocumentReference to the PDF summary. The read is audited."""
    intake = await intakes.load(intake_id)
    await audit_read(intakes.session, request, "intake.fhir_viewed", intake.id)
    bundle = intake_bundle(
        intake,
        intakes.clinic,
        identifier_system=settings.fhir_identifier_system,
        service_url=settings.public_base_url or "",
    )
    return bundle.model_dump(mode="json")
