"""Submitting an intake: validate, drop disabled answers, triage, store, all in one transaction.

The transaction (shared with the intakes submitted at the same moment: see `IntakeWriter`) is
committed before `submit_intake` returns, so before the caller answers 201: an acknowledged intake
is on disk, never waiting in a hook that could fail after the patient was told it was saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from uuid import uuid4

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from service import audit
from service.clinic import Clinic
from service.intake.new import NewIntake
from service.intake.stored import advice_to_json, answers_to_json, red_flags_of
from service.intake.writer import IntakeWriter, Sessions
from service.models import Intake, new_reference
from service.questionnaire import (
    NOT_ENABLED,
    AnswerError,
    AnswerValue,
    Language,
    WhenDisabled,
    validate_answers,
)
from service.triage import (
    PatientAdvice,
    Priority,
    Triage,
    evaluate,
    is_emergency_answer,
    patient_advice,
)

PATIENT = audit.Actor("patient")


class IdempotencyConflictError(Exception):
    """The idempotency key was used before, with a different request."""

    def __init__(self, existing: Intake) -> None:
        super().__init__("idempotency key reused with a different request")
        self.existing = existing


@dataclass(frozen=True)
class Accepted:
    intake: Intake | NewIntake
    """New: as just stored. Replayed: the stored intake the key's first request made."""
    replayed: bool
    """True when the key was seen before with the same request: nothing new was stored."""


@dataclass(frozen=True)
class Rejected:
    errors: tuple[AnswerError, ...]


SubmitOutcome = Accepted | Rejected


def request_digest(language: str, raw_answers: Mapping[str, object]) -> str:
    """A fingerprint of the request, to tell a retry from a different request with the same key.

    Canonical JSON (keys sorted at every depth, no spaces, UTF-8 unescaped) as `json.dumps`
    with `sort_keys` wrote it before, in C: that was a tenth of a submission's CPU. Only floats
    in exponent form are written differently: `1e+16` is now `1e16`, `1e-05` is `0.00001` and
    `1e-07` is `1e-7`. An intake stored before the change whose request carried such a float
    (only in an answer the form then dropped: a float answer is refused) would take its retry
    for a different request: a 409, not a second intake.
    """
    canonical = _CANONICAL.encode({"language": language, "answers": raw_answers})
    return hashlib.sha256(canonical).hexdigest()


_CANONICAL = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True, slots=True)
class IntakeSubmissions:
    """Submitting intakes, for the whole app: a request needs no database session of its own."""

    clinic: Clinic
    writer: IntakeWriter
    sessions: Sessions
    """Where an idempotency key is looked up; the writer stores the intake."""

    async def submit(
        self,
        *,
        language: Language,
        raw_answers: Mapping[str, object],
        now: datetime,
        idempotency_key: str | None = None,
        when_disabled: WhenDisabled = "drop",
    ) -> SubmitOutcome:
        """Validate, triage and store (committed before this returns); see `submit_intake`."""
        return await submit_intake(
            self.sessions,
            self.clinic,
            language=language,
            raw_answers=raw_answers,
            now=now,
            idempotency_key=idempotency_key,
            writer=self.writer,
            when_disabled=when_disabled,
        )


async def submit_intake(
    sessions: Sessions,
    clinic: Clinic,
    *,
    language: Language,
    raw_answers: Mapping[str, object],
    now: datetime,
    idempotency_key: str | None = None,
    writer: IntakeWriter,
    when_disabled: WhenDisabled = "drop",
) -> SubmitOutcome:
    """Validate, triage and store. A session of `sessions` only looks up the idempotency key
    (and the intake a replay answers with), and only when there is one; `writer` commits the
    intake, in a transaction shared with the intakes submitted at the same moment (group
    commit). It is committed before this returns `Accepted`."""
    digest = request_digest(language, raw_answers)
    if idempotency_key is not None:
        existing = await _by_key(sessions, idempotency_key)
        if existing is not None:
            return _replay(existing, digest)

    assessed = assess(clinic, language, raw_answers, clinic.today(now), when_disabled)
    if isinstance(assessed, Rejected):
        return assessed
    answers, triage, told = assessed.answers, assessed.triage, assessed.advice
    intake = NewIntake(
        id=uuid4(),
        reference=new_reference(),  # the writer replaces one that is taken
        language=language,
        questionnaire_version=clinic.questionnaire.version,
        answers=answers_to_json(answers),
        consent_version=clinic.consent.version,
        consent_text=clinic.consent.text.get(language),
        submitted_at=now,
        submitted_day=clinic.today(now),
        computed_priority=triage.level.value,
        rule_set=triage.rule_set,
        rule_set_version=triage.rule_set_version,
        advice=advice_to_json(told),
        idempotency_key=idempotency_key,
        request_digest=digest,
        red_flags=red_flags_of(triage, now),
    )
    audited = audit.Event(
        PATIENT,
        "intake.submitted",
        intake.id,
        {"priority": triage.level.value, "rule_set_version": triage.rule_set_version},
    )

    try:
        await writer.store(intake, audited)
    except IntegrityError:
        # Two requests with one key raced; the other one won. Answer as its retry would be.
        if idempotency_key is None:
            raise
        existing = await _by_key(sessions, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, digest)
    return Accepted(intake, replayed=False)


@dataclass(frozen=True, slots=True)
class Assessed:
    """What the clinic's rules make of valid answers: nothing stored yet."""

    answers: Mapping[str, AnswerValue]
    """As cleaned by validation, disabled ones dropped (emergencies kept)."""
    triage: Triage
    advice: PatientAdvice
    """What the patient is told at once."""


def assess(
    clinic: Clinic,
    language: Language,
    raw_answers: Mapping[str, object],
    today: date,
    when_disabled: WhenDisabled = "drop",
) -> Assessed | Rejected:
    """Validate the answers, then triage them and choose the patient's advice (pure: no I/O).

    When answers to hidden questions are to be refused, but they are all that is wrong and the
    rest is an emergency, the emergency wins: those answers are dropped (as the form drops
    them) and the intake is taken, for a patient must never be turned away with one.
    """
    validate = partial(
        validate_answers,
        clinic.questionnaire,
        raw_answers,
        today,
        language=language,
        keep_when_disabled=partial(is_emergency_answer, clinic.rule_set),
    )
    result = validate(when_disabled=when_disabled)
    if not result.ok and all(error.code == NOT_ENABLED for error in result.errors):
        lenient = validate(when_disabled="drop")
        if (
            lenient.ok
            and evaluate(clinic.rule_set, lenient.answers, today).level is Priority.EMERGENCY
        ):
            result = lenient
    if not result.ok:
        return Rejected(result.errors)
    triage = evaluate(clinic.rule_set, result.answers, today)
    told = patient_advice(
        triage, result.answers, language, clinic_phone=clinic.phone, advice=clinic.advice
    )
    return Assessed(result.answers, triage, told)


def _replay(existing: Intake, digest: str) -> Accepted:
    if existing.request_digest != digest:
        raise IdempotencyConflictError(existing)
    return Accepted(existing, replayed=True)


async def _by_key(sessions: Sessions, key: str) -> Intake | None:
    statement = (
        select(Intake).where(Intake.idempotency_key == key).options(selectinload(Intake.red_flags))
    )
    async with sessions() as session:
        return (await session.scalars(statement)).one_or_none()
