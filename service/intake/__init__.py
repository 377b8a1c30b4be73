"""Intakes: a patient's validated answers, triaged and stored in one transaction."""

from service.intake.stored import (
    ToldAdvice,
    advice_from_json,
    advice_to_json,
    answers_from_json,
    answers_to_json,
)
from service.intake.submit import (
    Accepted,
    IdempotencyConflictError,
    Rejected,
    SubmitOutcome,
    request_digest,
    submit_intake,
)
from service.intake.writer import IntakeWriter

__all__ = [
    "Accepted",
    "IdempotencyConflictError",
    "IntakeWriter",
    "Rejected",
    "SubmitOutcome",
    "ToldAdvice",
    "advice_from_json",
    "advice_to_json",
    "answers_from_json",
    "answers_to_json",
    "request_digest",
    "submit_intake",
]
