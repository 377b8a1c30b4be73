"""A new intake, validated and triaged but not stored yet: the rows the intake writer inserts.

A submission makes no ORM objects. Building an intake with its red flags and first status
through the ORM cost about 0.12 ms, and flushing them through the unit of work most of a
millisecond per intake under load (issue 17), several times the validation and triage they
carry. The writer inserts these rows instead, one statement per table for a whole batch of
intakes. Where a view needs the ORM object (the summary rendered ahead of the doctor's first
look), `as_intake()` makes it, after the commit and only then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from service.codes import Priority, Status
from service.models import Intake, RedFlag, StatusChange


@dataclass(frozen=True, slots=True)
class NewRedFlag:
    """A rule that fired, as its `red_flag` row (read like a stored one: see `raised_flags`)."""

    rule_id: str
    rule_set_version: int
    level: str
    triggering_answers: dict[str, object]
    fired_at: datetime
    superseded_at: datetime | None = None

    def row(self, intake_id: UUID) -> dict[str, Any]:
        return {"intake_id": intake_id, **self._columns()}

    def as_red_flag(self) -> RedFlag:
        """The ORM object, for an intake's `red_flags` (a re-triage adds new ones)."""
        return RedFlag(**self._columns())

    def _columns(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule_set_version": self.rule_set_version,
            "level": self.level,
            "triggering_answers": self.triggering_answers,
            "fired_at": self.fired_at,
            "superseded_at": self.superseded_at,
        }


@dataclass(slots=True)
class NewIntake:
    """Everything stored of a new intake; read like a stored `Intake` where they share a name."""

    id: UUID
    reference: str
    """Drawn at random; the writer draws again when a stored intake has it already."""
    language: str
    questionnaire_version: str
    answers: dict[str, object]
    consent_version: str
    consent_text: str
    submitted_at: datetime
    submitted_day: date
    """The clinic-local day of `submitted_at`."""
    computed_priority: str
    rule_set: str
    rule_set_version: int
    advice: dict[str, object]
    idempotency_key: str | None
    request_digest: str
    red_flags: tuple[NewRedFlag, ...]
    status: str = Status.NEW.value
    revision: int = 1

    @property
    def priority(self) -> Priority:
        """No override yet: the level the rules computed."""
        return Priority(self.computed_priority)

    def row(self) -> dict[str, Any]:
        """The `intake` row: every column, so that one statement inserts a batch of them."""
        return {
            "id": self.id,
            "reference": self.reference,
            "language": self.language,
            "questionnaire_version": self.questionnaire_version,
            "answers": self.answers,
            "consent_version": self.consent_version,
            "consent_text": self.consent_text,
            "submitted_at": self.submitted_at,
            "submitted_day": self.submitted_day,
            "seen_after_seconds": None,
            "status": self.status,
            "computed_priority": self.computed_priority,
            "override_priority": None,
            "override_reason": None,
            "override_by": None,
            "overridden_at": None,
            "queue_rank": self.priority.rank,
            "revision": self.revision,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "rule_set": self.rule_set,
            "rule_set_version": self.rule_set_version,
            "advice": self.advice,
            "idempotency_key": self.idempotency_key,
            "request_digest": self.request_digest,
        }

    def red_flag_rows(self) -> list[dict[str, Any]]:
        return [flag.row(self.id) for flag in self.red_flags]

    def status_row(self) -> dict[str, Any]:
        """Its first step through the queue: submitted, as `new`."""
        return {
            "intake_id": self.id,
            "from_status": None,
            "to_status": self.status,
            "changed_at": self.submitted_at,
            "changed_by": None,
        }

    def as_intake(self) -> Intake:
        """The ORM object of the stored intake, red flags and status history loaded (not bound
        to a session): for the views that take one."""
        row = self.status_row()
        del row["intake_id"]
        return Intake(
            **self.row(),
            red_flags=[flag.as_red_flag() for flag in self.red_flags],
            status_history=[StatusChange(**row)],
        )
