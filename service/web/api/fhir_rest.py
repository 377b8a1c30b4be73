"""The FHIR REST surface at `/fhir` (R4 4.0.1, `application/fhir+json`): what it can do, and the
served Questionnaire by id or by canonical URL. Errors are OperationOutcomes (service.web.problems).
"""

from __future__ import annotations

import importlib.metadata
from http import HTTPStatus
from typing import Any, Literal

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_404_NOT_FOUND

from service.clinic import Clinic
from service.fhir import FHIR_JSON, capability_statement, search_set
from service.web.access import ANONYMOUS, PUBLIC
from service.web.api.openapi import DocumentedOperation
from service.web.api.questionnaire import served_questionnaire
from service.web.dependencies import AppSettings
from service.web.problems import problem

SOFTWARE_VERSION = importlib.metadata.version("clinic-intake")


class OperationOutcomeIssue(msgspec.Struct):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str
    expression: list[str] = msgspec.field(default_factory=list)


class OperationOutcome(msgspec.Struct):
    """Every `/fhir` error: one issue per field or linkId at fault."""

    resourceType: Literal["OperationOutcome"]  # noqa: N815 - FHIR's own field name
    issue: list[OperationOutcomeIssue]


class FhirResourceOutline(msgspec.Struct):
    """A FHIR R4 resource (its other fields as FHIR defines them)."""

    resourceType: str  # noqa: N815 - FHIR's own field name


def fhir_operation(*errors: int) -> dict[str, Any]:
    """Handler keywords for a public `/fhir` route: anyone may call; errors as OperationOutcome."""
    return {
        "opt": {**PUBLIC, ANONYMOUS: True},
        "media_type": FHIR_JSON,
        "tags": ["fhir"],
        "responses": {
            status: ResponseSpec(
                data_container=OperationOutcome,
                description=HTTPStatus(status).phrase,
                media_type=FHIR_JSON,
                generate_examples=False,
            )
            for status in errors
        },
        "operation_class": DocumentedOperation,
    }


Lang = FromQuery[Literal["en", "ml"] | None]


@get(
    "/fhir/metadata",
    operation_id="getFhirCapabilityStatement",
    summary="The FHIR CapabilityStatement: what this server supports",
    **fhir_operation(),
)
async def fhir_metadata(settings: AppSettings) -> dict[str, Any]:
    return capability_statement(SOFTWARE_VERSION, settings.public_base_url)


@get(
    "/fhir/Questionnaire/{questionnaire_id:str}",
    operation_id="readFhirQuestionnaire",
    summary="The served Questionnaire, by id",
    **fhir_operation(404, 422),
)
async def fhir_questionnaire(
    request: Request[Any, Any, Any],
    questionnaire_id: FromPath[str],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    lang: Lang = None,
) -> dict[str, Any]:
    """The same Questionnaire as `GET /api/v1/questionnaire`; without `lang`, Accept-Language
    decides its language."""
    served = served_questionnaire(request, clinic, settings.fhir_identifier_system, lang)
    if questionnaire_id != served["id"]:
        raise problem(HTTP_404_NOT_FOUND, f"No Questionnaire with id {questionnaire_id!r}.")
    return served


@get(
    "/fhir/Questionnaire",
    operation_id="searchFhirQuestionnaire",
    summary="Search the served Questionnaire by its canonical URL",
    **fhir_operation(422),
)
async def fhir_questionnaire_search(
    request: Request[Any, Any, Any],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    url: FromQuery[str | None] = None,
    lang: Lang = None,
) -> dict[str, Any]:
    """A `searchset` Bundle: the served Questionnaire when `url` is its canonical URL (with or
    without `|version`) or absent; empty otherwise."""
    served = served_questionnaire(request, clinic, settings.fhir_identifier_system, lang)
    wanted, _, version = (url or "").partition("|")
    matches = url is None or (wanted == served["url"] and version in {"", served["version"]})
    return search_set([served] if matches else [])
