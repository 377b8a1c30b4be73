"""`POST /api/v1/intakes`: a patient's answers in, a reference code and what to do next out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import Example
from litestar.params import BodyKwarg, HeaderParameter
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from service.clinic import Clinic
from service.intake import (
    Accepted,
    IdempotencyConflictError,
    IntakeSubmissions,
    advice_from_json,
    raised_flags,
)
from service.intake.new import NewIntake
from service.models import Intake
from service.questionnaire import Language, WhenDisabled
from service.triage import Priority
from service.web.api.bodies import json_only
from service.web.api.openapi import public_operation
from service.web.inputs import MAX_BODY
from service.web.problems import FieldError, problem

MAX_IDEMPOTENCY_KEY = 200


EXAMPLE = json.loads((Path(__file__).parent / "intake_example.json").read_text(encoding="utf-8"))


class IntakeSubmission(msgspec.Struct, forbid_unknown_fields=True):
    """Answers keyed by linkId: booleans, integers, strings, `YYYY-MM-DD` dates, lists of codes."""

    language: Annotated[
        Literal["en", "ml"], msgspec.Meta(description="The language the patient answered in")
    ]
    answers: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="Keyed by the linkIds of GET /api/v1/questionnaire; each value as its "
            "item's type: true/false, an integer, a string, a `YYYY-MM-DD` date, an answer code, "
            "or a list of codes for multi-choice. The questionnaire's rules (required answers, "
            "enableWhen, limits, consent) are checked on the server: each problem is one 422 "
            "`errors` entry with the linkId in `field`."
        ),
    ]


class RedFlagOut(msgspec.Struct):
    rule: str
    level: Priority
    title: str


class IntakeReceipt(msgspec.Struct):
    id: str
    reference: str
    priority: Priority
    red_flags: list[RedFlagOut]
    advice: str
    submitted_at: datetime


def receipt(intake: Intake | NewIntake, clinic: Clinic) -> IntakeReceipt:
    """The 201 body; built from what was stored, so a replay answers exactly as the first time."""
    language: Language = "ml" if intake.language == "ml" else "en"
    return IntakeReceipt(
        id=str(intake.id),
        reference=intake.reference,
        priority=Priority(intake.computed_priority),
        red_flags=[
            RedFlagOut(rule=flag.rule_id, level=flag.level, title=flag.titles.get(language))
            for flag in raised_flags(intake, clinic)
            if flag.current
        ],
        advice="\n\n".join(advice_from_json(intake.advice).paragraphs),
        submitted_at=intake.submitted_at,
    )


# A patient with no red flag, in the schema so that integrators (and schemathesis) see a whole,
# valid submission; tests/api/test_openapi.py submits it.
Submission = Annotated[
    IntakeSubmission,
    BodyKwarg(
        media_type=RequestEncodingType.JSON,
        examples=[Example(summary="A routine patient, in English", value=EXAMPLE)],
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Client-chosen; the same key with the same body answers the first response "
        "again and stores nothing new, with a different body 409",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
    ),
]


# What a submission can answer besides 201, whichever way it comes in (here, or /fhir).
SUBMISSION_ERRORS = (400, 409, 413, 415, 422, 429, 503)
SUBMISSION_MEANINGS = {
    409: "The Idempotency-Key was used before with a different body",
    413: "The body is over 64 KiB",
    429: "Too many intakes from this address; see Retry-After",
}


def location(where: str) -> ResponseHeader:
    """The documented `Location` header of a 201."""
    return ResponseHeader(
        name="Location", description=where, documentation_only=True, required=True
    )


class IntakeController(Controller):
    path = "/api/v1/intakes"

    @post(
        "/",
        operation_id="submitIntake",
        tags=["patient"],
        summary="Submit a patient's answers",
        status_code=HTTP_201_CREATED,
        before_request=json_only,
        request_max_body_size=MAX_BODY,
        response_headers=[location("Where staff read the intake: /api/v1/intakes/{id}")],
        **public_operation(
            *SUBMISSION_ERRORS,
            described={
                **SUBMISSION_MEANINGS,
                422: "Answers that need attention: one error per field, with its linkId",
            },
            opt={"rate_limit": "intake"},
        ),
    )
    async def submit(
        self,
        data: Submission,
        submissions: NamedDependency[IntakeSubmissions],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[IntakeReceipt]:
        """Validates, triages and stores the intake in one transaction. The same
        `Idempotency-Key` with the same body returns the first response and stores nothing."""
        return await answer_submission(submissions, data, idempotency_key)


async def answer_submission(
    submissions: IntakeSubmissions, data: IntakeSubmission, idempotency_key: str | None
) -> Response[IntakeReceipt]:
    """The answer to a submission: 201 with the receipt, or the problem raised. The route's
    handler and `service.web.submission_lane` (its common case, ahead of the router) both
    answer with it."""
    accepted = await submit_answers(submissions, data.language, data.answers, idempotency_key)
    return Response(
        receipt(accepted.intake, submissions.clinic),
        status_code=HTTP_201_CREATED,
        headers={"Location": f"/api/v1/intakes/{accepted.intake.id}"},
    )


async def submit_answers(
    submissions: IntakeSubmissions,
    language: Language,
    answers: Mapping[str, object],
    idempotency_key: str | None,
    when_disabled: WhenDisabled = "drop",
) -> Accepted:
    """Submit answers as every public way in does (the JSON API, the FHIR surface): accepted,
    or a problem raised: 422 naming each answer's linkId, 409 for a reused Idempotency-Key."""
    key = idempotency_key
    if key is not None and not key.isprintable():
        raise problem(
            HTTP_422_UNPROCESSABLE_ENTITY,
            "The Idempotency-Key header is not usable.",
            errors=[
                FieldError("Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY} printable characters")
            ],
        )
    try:
        outcome = await submissions.submit(
            language=language,
            raw_answers=answers,
            now=datetime.now(UTC),
            idempotency_key=key,
            when_disabled=when_disabled,
        )
    except IdempotencyConflictError:
        raise problem(
            HTTP_409_CONFLICT, "This Idempotency-Key was already used with a different request."
        ) from None
    if not isinstance(outcome, Accepted):
        raise problem(
            HTTP_422_UNPROCESSABLE_ENTITY,
            "Some answers need attention.",
            errors=[FieldError(e.field, e.message_in(language)) for e in outcome.errors],
        )
    return outcome
