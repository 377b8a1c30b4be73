"""Submitting an intake: validate, drop disabled answers, triage, store, all in one transaction.

The transaction (shared with the intakes submitted at the same moment: see `IntakeWriter`) is
committed before `submit_intake` returns, so before the caller answers 201: an acknowledged intake
is on disk, never waiting in a hook that could fail after the patient was told it was saved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service import audit
from service.clinic import Clinic
from service.codes import EventType, Status
from service.intake.stored import advice_to_json, answers_to_json, red_flags_of
from service.intake.writer import IntakeWriter
from service.models import Intake, StatusChange, new_reference
from service.questionnaire import AnswerError, Language, validate_answers
from service.triage import evaluate, is_emergency_answer, patient_advice
from service.webhooks import record_intake_event

PATIENT = audit.Actor("patient")


class IdempotencyConflictError(Exception):
    """The idempotency key was used before, with a different request."""

    def __init__(self, existing: Intake) -> None:
        super().__init__("idempotency key reused with a different request")
        self.existing = existing


@dataclass(frozen=True)
class Accepted:
    intake: Intake
    replayed: bool
    """True when the key was seen before with the same request: nothing new was stored."""


@dataclass(frozen=True)
class Rejected:
    errors: tuple[AnswerError, ...]


SubmitOutcome = Accepted | Rejected


def request_digest(language: str, raw_answers: Mapping[str, object]) -> str:
    """A fingerprint of the request, to tell a retry from a different request with the same key."""
    canonical = json.dumps(
        {"language": language, "answers": raw_answers},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def submit_intake(
    session: AsyncSession,
    clinic: Clinic,
    *,
    language: Language,
    raw_answers: Mapping[str, object],
    now: datetime,
    idempotency_key: str | None = None,
    writer: IntakeWriter,
) -> SubmitOutcome:
    """Validate, triage and store. `session` only looks up the idempotency key (and the intake
    a replay answers with); `writer` commits the intake, in a transaction shared with the
    intakes submitted at the same moment (group commit). It is committed before this returns
    `Accepted`."""
    digest = request_digest(language, raw_answers)
    if idempotency_key is not None:
        existing = await _by_key(session, idempotency_key)
        if existing is not None:
            return _replay(existing, digest)
        await session.rollback()  # the writer commits elsewhere: give the connection back

    today = clinic.today(now)
    result = validate_answers(
        clinic.questionnaire,
        raw_answers,
        today,
        language=language,
        keep_when_disabled=partial(is_emergency_answer, clinic.rule_set),
    )
    if not result.ok:
        return Rejected(result.errors)

    triage = evaluate(clinic.rule_set, result.answers, today)
    told = patient_advice(
        triage, result.answers, language, clinic_phone=clinic.phone, advice=clinic.advice
    )
    intake = Intake(
        id=uuid4(),
        reference=new_reference(),  # the writer replaces one that is taken
        language=language,
        questionnaire_version=clinic.questionnaire.version,
        answers=answers_to_json(result.answers),
        consent_version=clinic.consent.version,
        consent_text=clinic.consent.text.get(language),
        submitted_at=now,
        status=Status.NEW.value,
        rule_set=triage.rule_set,
        rule_set_version=triage.rule_set_version,
        advice=advice_to_json(told),
        idempotency_key=idempotency_key,
        request_digest=digest,
        red_flags=red_flags_of(triage, now),
        status_history=[StatusChange(from_status=None, to_status=Status.NEW.value, changed_at=now)],
    )
    intake.set_priorities(triage.level, None)

    def stage(transaction: AsyncSession) -> None:
        audit.record(
            transaction,
            PATIENT,
            "intake.submitted",
            intake.id,
            priority=triage.level.value,
            rule_set_version=triage.rule_set_version,
        )
        record_intake_event(transaction, EventType.INTAKE_CREATED, intake, now)

    try:
        await writer.store(intake, stage)
    except IntegrityError:
        # Two requests with one key raced; the other one won. Answer as its retry would be.
        await session.rollback()
        if idempotency_key is None:
            raise
        existing = await _by_key(session, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, digest)
    return Accepted(intake, replayed=False)


def _replay(existing: Intake, digest: str) -> Accepted:
    if existing.request_digest != digest:
        raise IdempotencyConflictError(existing)
    return Accepted(existing, replayed=True)


async def _by_key(session: AsyncSession, key: str) -> Intake | None:
    statement = (
        select(Intake).where(Intake.idempotency_key == key).options(selectinload(Intake.red_flags))
    )
    return (await session.scalars(statement)).one_or_none()
