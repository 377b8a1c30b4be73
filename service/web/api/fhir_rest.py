"""The FHIR REST surface at `/fhir` (R4 4.0.1, `application/fhir+json`): what it can do; the
served Questionnaire by id or by canonical URL; a patient's answers in as a QuestionnaireResponse
(the same submission as `POST /api/v1/intakes`) and out again for doctors; the clinic's
CodeSystems and extension definition. Errors are OperationOutcomes (service.web.problems).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import BodyKwarg, FromPath, FromQuery, HeaderParameter
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from service.clinic import Clinic
from service.fhir import (
    FHIR_JSON,
    QuestionnaireResponseError,
    Systems,
    capability_statement,
    code_systems,
    consent_version_definition,
    example_response,
    questionnaire_response,
    read_questionnaire_response,
    receipt_outcome,
    search_set,
)
from service.intake import IntakeService, IntakeSubmissions
from service.questionnaire import LANGUAGES, to_fhir_questionnaire
from service.staff import Role
from service.web.access import ANONYMOUS, PUBLIC, audit_read, staff
from service.web.api.bodies import fhir_json_only
from service.web.api.intakes import (
    EXAMPLE,
    SUBMISSION_ERRORS,
    SUBMISSION_MEANINGS,
    IdempotencyKey,
    location,
    receipt,
    submit_answers,
)
from service.web.api.openapi import DocumentedOperation, staff_security
from service.web.api.questionnaire import served_questionnaire
from service.web.api.staff import IntakeId
from service.web.dependencies import AppSettings
from service.web.inputs import MAX_BODY
from service.web.problems import FieldError, problem

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


def fhir_operation(
    *errors: int, described: Mapping[int, str] | None = None, opt: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Handler keywords for a public `/fhir` route: anyone may call; errors as OperationOutcome."""
    return {
        "opt": {**PUBLIC, ANONYMOUS: True, **(opt or {})},
        "media_type": FHIR_JSON,
        "tags": ["fhir"],
        "responses": outcomes(*errors, described=described),
        "operation_class": DocumentedOperation,
    }


def fhir_staff_operation(roles: Iterable[Role], *errors: int) -> dict[str, Any]:
    """Handler keywords for a staff `/fhir` route: as `staff_operation`, errors as outcomes."""
    allowed = tuple(roles)
    return {
        "opt": staff(*allowed),
        "security": staff_security(*allowed),
        "media_type": FHIR_JSON,
        "tags": ["fhir"],
        "responses": outcomes(401, 403, *errors, 503),
        "operation_class": DocumentedOperation,
    }


def outcomes(*errors: int, described: Mapping[int, str] | None = None) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=OperationOutcome,
            description=(described or {}).get(status, HTTPStatus(status).phrase),
            media_type=FHIR_JSON,
            generate_examples=False,
        )
        for status in errors
    }


Lang = FromQuery[Literal["en", "ml"] | None]

Prefer = Annotated[
    str | None,
    HeaderParameter(
        name="Prefer",
        description="`return=representation` (the default): the response as stored; "
        "`return=OperationOutcome`: what the patient is to be told, what to do next first "
        "(a warning for an emergency) and the reference code; `return=minimal`: no body",
        max_length=200,
    ),
]

# The JSON API's example patient, as an SDC form filler would send the same answers.
EXAMPLE_RESPONSE = example_response(EXAMPLE)
SubmittedResponse = Annotated[
    dict[str, Any],
    BodyKwarg(
        media_type=FHIR_JSON,
        description="A FHIR R4 QuestionnaireResponse, status `completed`, whose `questionnaire` "
        "is the served Questionnaire's `url|version` and whose items nest in its groups",
        examples=[Example(summary="A routine patient, in English", value=EXAMPLE_RESPONSE)],
    ),
]


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
    **fhir_operation(400, 404, 422),
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
    **fhir_operation(400, 422),
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
    return search_set(by_canonical([served], url))


@get(
    "/fhir/CodeSystem/{code_system_id:str}",
    operation_id="readFhirCodeSystem",
    summary="One of the clinic's CodeSystems (answer options, red-flag rules, levels, statuses)",
    **fhir_operation(400, 404),
)
async def fhir_code_system(
    code_system_id: FromPath[str], clinic: NamedDependency[Clinic], settings: AppSettings
) -> dict[str, Any]:
    """Every system under the clinic's base URI that a Coding of ours names resolves here."""
    return by_id(code_systems(clinic, settings.fhir_identifier_system), code_system_id)


@get(
    "/fhir/CodeSystem",
    operation_id="searchFhirCodeSystem",
    summary="Search the clinic's CodeSystems by canonical URL",
    **fhir_operation(400, 422),
)
async def fhir_code_system_search(
    clinic: NamedDependency[Clinic], settings: AppSettings, url: FromQuery[str | None] = None
) -> dict[str, Any]:
    """A `searchset` Bundle: the CodeSystem whose URL is `url`, or all of them without it."""
    return search_set(by_canonical(code_systems(clinic, settings.fhir_identifier_system), url))


@get(
    "/fhir/StructureDefinition/{definition_id:str}",
    operation_id="readFhirStructureDefinition",
    summary="The definition of the clinic's extension (the consent text's version)",
    **fhir_operation(400, 404),
)
async def fhir_structure_definition(
    definition_id: FromPath[str], settings: AppSettings
) -> dict[str, Any]:
    return by_id([consent_version_definition(settings.fhir_identifier_system)], definition_id)


@get(
    "/fhir/StructureDefinition",
    operation_id="searchFhirStructureDefinition",
    summary="Search the clinic's StructureDefinitions by canonical URL",
    **fhir_operation(400, 422),
)
async def fhir_structure_definition_search(
    settings: AppSettings, url: FromQuery[str | None] = None
) -> dict[str, Any]:
    definitions = [consent_version_definition(settings.fhir_identifier_system)]
    return search_set(by_canonical(definitions, url))


@post(
    "/fhir/QuestionnaireResponse",
    operation_id="createFhirQuestionnaireResponse",
    summary="Submit a patient's answers as a completed QuestionnaireResponse",
    status_code=HTTP_201_CREATED,
    before_request=fhir_json_only,
    request_max_body_size=MAX_BODY,
    response_headers=[location("Where doctors read it: /fhir/QuestionnaireResponse/{intake id}")],
    **fhir_operation(
        *SUBMISSION_ERRORS,
        described={
            **SUBMISSION_MEANINGS,
            422: "Not a completed response to the served questionnaire, or answers that need "
            "attention: one issue each, with the linkId in expression",
        },
        opt={"rate_limit": "intake"},
    ),
)
async def fhir_questionnaire_response_create(
    data: SubmittedResponse,
    clinic: NamedDependency[Clinic],
    submissions: NamedDependency[IntakeSubmissions],
    settings: AppSettings,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> Response[dict[str, Any] | bytes]:
    """Checked against the served Questionnaire item by item, then validated, triaged and
    stored exactly as `POST /api/v1/intakes` stores the same answers; an answer to an item that
    is not enabled is refused (but one that alone is an emergency, which counts). Answers 201
    with the response as stored; the same `Idempotency-Key` with the same answers returns it
    again and stores nothing. `Prefer: return=OperationOutcome` answers instead what the patient
    is to be told (what to do next, first; the reference code), `return=minimal` nothing."""
    base = settings.fhir_identifier_system
    served = {
        language: to_fhir_questionnaire(clinic.questionnaire, language, base=base)
        for language in LANGUAGES
    }
    try:
        read = read_questionnaire_response(data, served)
    except QuestionnaireResponseError as refused:
        raise problem(
            HTTP_422_UNPROCESSABLE_ENTITY,
            "The QuestionnaireResponse cannot be taken.",
            errors=[FieldError(p.expression, p.message) for p in refused.problems],
        ) from None
    # A response whose language neither it nor its texts tell was filled in the language the
    # patient chose in the form, else in English.
    language = read.language or clinic.questionnaire.form_language(read.answers) or "en"
    accepted = await submit_answers(
        submissions, language, read.answers, idempotency_key, when_disabled="refuse"
    )
    intake = accepted.intake
    body: dict[str, Any] | bytes
    match _returned(prefer):
        case "minimal":
            body = b""
        case "OperationOutcome":
            told = receipt(intake, clinic)
            body = receipt_outcome(
                told.reference, told.priority, told.advice, priority_system=Systems(base).priority
            )
        case _:
            body = questionnaire_response(intake, clinic.questionnaire, identifier_system=base)
    return Response(
        body,
        status_code=HTTP_201_CREATED,
        headers={"Location": f"/fhir/QuestionnaireResponse/{intake.id}"},
        media_type=FHIR_JSON,
    )


def _returned(prefer: str | None) -> str:
    """The `return` preference of a `Prefer` header (RFC 7240), `representation` by default."""
    for preference in (prefer or "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "return":
            return value.strip().strip('"')
    return "representation"


@get(
    "/fhir/QuestionnaireResponse/{intake_id:uuid}",
    operation_id="readFhirQuestionnaireResponse",
    summary="A patient's answers as a QuestionnaireResponse (its id is the intake id)",
    **fhir_staff_operation([Role.DOCTOR, Role.ADMIN], 400, 404),
)
async def fhir_questionnaire_response(
    request: Request[Any, Any, Any],
    intake_id: IntakeId,
    intakes: NamedDependency[IntakeService],
    settings: AppSettings,
) -> dict[str, Any]:
    """The answers as the patient gave them, whichever way they came in. Each read is audited
    as `intake.questionnaire_response_viewed`."""
    intake = await intakes.load(intake_id)
    await audit_read(intakes.session, request, "intake.questionnaire_response_viewed", intake.id)
    return questionnaire_response(
        intake, intakes.clinic.questionnaire, identifier_system=settings.fhir_identifier_system
    )


def by_id(resources: list[dict[str, Any]], resource_id: str) -> dict[str, Any]:
    """The resource with that id, else 404."""
    for resource in resources:
        if resource["id"] == resource_id:
            return resource
    kind = resources[0]["resourceType"] if resources else "resource"
    raise problem(HTTP_404_NOT_FOUND, f"No {kind} with id {resource_id!r}.")


def by_canonical(resources: list[dict[str, Any]], url: str | None) -> list[dict[str, Any]]:
    """Those whose canonical URL is `url` (with or without `|version`); all without `url`."""
    if url is None:
        return resources
    wanted, _, version = url.partition("|")
    return [
        resource
        for resource in resources
        if resource["url"] == wanted and version in {"", resource.get("version", "")}
    ]


FHIR_ROUTES = [
    fhir_metadata,
    fhir_questionnaire,
    fhir_questionnaire_search,
    fhir_questionnaire_response_create,
    fhir_questionnaire_response,
    fhir_code_system,
    fhir_code_system_search,
    fhir_structure_definition,
    fhir_structure_definition_search,
]
"""Every route of the `/fhir` surface; the CapabilityStatement lists exactly these."""
