"""`GET /api/v1/questionnaire`: the form as a FHIR R4 Questionnaire."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from service.clinic import Clinic
from service.questionnaire import to_fhir_questionnaire
from service.web import language
from service.web.api.openapi import public_operation
from service.web.dependencies import AppSettings


@get(
    "/api/v1/questionnaire",
    operation_id="getQuestionnaire",
    tags=["patient"],
    summary="The intake questionnaire as a FHIR R4 Questionnaire",
    media_type="application/fhir+json",
    **public_operation(400, 422),
)
async def questionnaire(
    request: Request[Any, Any, Any],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    lang: FromQuery[Literal["en", "ml"] | None] = None,
) -> dict[str, Any]:
    """Every item with its linkId, enableWhen, required flag and options; the other language
    travels in FHIR translation extensions. Without `lang`, Accept-Language decides."""
    return served_questionnaire(request, clinic, settings.fhir_identifier_system, lang)


def served_questionnaire(
    request: Request[Any, Any, Any], clinic: Clinic, identifier_system: str, lang: str | None
) -> dict[str, Any]:
    """The clinic's Questionnaire as FHIR R4 JSON in the language asked for (`lang`, else the
    visit's or the browser's), with its canonical URL: here and at `/fhir/Questionnaire`."""
    return to_fhir_questionnaire(
        clinic.questionnaire, language.choose(request, lang), base=identifier_system
    )
