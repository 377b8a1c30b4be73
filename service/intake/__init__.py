"""Intakes: a patient's validated answers, triaged and stored in one transaction."""

from service.intake._for_staff import (
    IntakeForStaff,
    PriorityOverride,
    RaisedFlag,
    StatusStep,
    intake_for_staff,
    raised_flags,
    rules_in_force,
)
from service.intake.actions import IntakeNotFoundError, IntakeService
from service.intake.new import NewIntake
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
    IntakeSubmissions,
    Rejected,
    SubmitOutcome,
    request_digest,
    submit_intake,
)
from service.intake.writer import IntakeWriter

__all__ = [
    "Accepted",
    "IdempotencyConflictError",
    "IntakeForStaff",
    "IntakeNotFoundError",
    "IntakeService",
    "IntakeSubmissions",
    "IntakeWriter",
    "NewIntake",
    "PriorityOverride",
    "RaisedFlag",
    "Rejected",
    "StatusStep",
    "SubmitOutcome",
    "ToldAdvice",
    "advice_from_json",
    "advice_to_json",
    "answers_from_json",
    "answers_to_json",
    "intake_for_staff",
    "raised_flags",
    "request_digest",
    "rules_in_force",
    "submit_intake",
]
