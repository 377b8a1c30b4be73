"""An intake as staff read it: one frozen view, built once from the stored row and the clinic.

The doctor's page, the staff API, the PDF summary and the FHIR export each show it in their
own format, so the rule's words and which red flags still count are decided here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from uuid import UUID

from service.clinic import Clinic
from service.codes import Priority, Status
from service.intake.new import NewIntake
from service.models import Intake, StatusChange
from service.questionnaire import LocalizedText
from service.triage import Rule


@dataclass(frozen=True, slots=True)
class RaisedFlag:
    """A red flag as stored, with its rule's words from the rule set in force.

    A rule the clinic has since removed is named by its id, with no rationale or source:
    the flag stays on the record, and staff still see which rule raised it.
    """

    rule_id: str
    level: Priority
    titles: LocalizedText
    rationale: str
    source: str
    triggering_answers: Mapping[str, object]
    rule_set_version: int
    fired_at: datetime
    superseded_at: datetime | None

    @property
    def title(self) -> str:
        """The title in English, the clinic's working language."""
        return self.titles.en

    @property
    def current(self) -> bool:
        """Raised by the latest triage; a re-triage keeps the earlier ones, superseded."""
        return self.superseded_at is None


@dataclass(frozen=True, slots=True)
class PriorityOverride:
    """A doctor's level, kept beside the computed one; `reason` is empty if none was recorded."""

    level: Priority
    reason: str
    by: UUID | None
    at: datetime | None


@dataclass(frozen=True, slots=True)
class StatusStep:
    """One move along the queue; the first is the submission, from no status to `new`."""

    from_status: Status | None
    to_status: Status
    at: datetime
    by: UUID | None


@dataclass(frozen=True, slots=True)
class IntakeForStaff:
    """Everything staff see about one intake, in stored values; each surface words it itself."""

    id: UUID
    reference: str
    language: str
    submitted_at: datetime
    revision: int
    status: Status
    priority: Priority
    computed_priority: Priority
    override: PriorityOverride | None
    red_flags: tuple[RaisedFlag, ...]
    answers: Mapping[str, object]
    status_history: tuple[StatusStep, ...]
    questionnaire_version: str
    rule_set: str
    rule_set_version: int
    consent_version: str

    @property
    def last_changed_at(self) -> datetime:
        """When anything staff see of the intake last changed: its submission, a status move,
        an override, a red flag raised or superseded by a re-triage."""
        moments = [self.submitted_at, *(step.at for step in self.status_history)]
        if self.override is not None and self.override.at is not None:
            moments.append(self.override.at)
        for flag in self.red_flags:
            moments.append(flag.fired_at)
            if flag.superseded_at is not None:
                moments.append(flag.superseded_at)
        return max(moments)

    @property
    def current_flags(self) -> tuple[RaisedFlag, ...]:
        """The flags staff act on: most urgent first, in the rule set's order within a level."""
        return tuple(sorted((flag for flag in self.red_flags if flag.current), key=_urgency))

    @property
    def superseded_flags(self) -> tuple[RaisedFlag, ...]:
        """Flags an earlier triage raised, kept so the history stays readable."""
        return tuple(flag for flag in self.red_flags if not flag.current)


def intake_for_staff(intake: Intake, clinic: Clinic) -> IntakeForStaff:
    """The view of `intake` (its red flags and status history must be loaded)."""
    override = None
    if intake.override_priority:
        override = PriorityOverride(
            level=Priority(intake.override_priority),
            reason=intake.override_reason or "",
            by=intake.override_by,
            at=intake.overridden_at,
        )
    return IntakeForStaff(
        id=intake.id,
        reference=intake.reference,
        language=intake.language,
        submitted_at=intake.submitted_at,
        revision=intake.revision,
        status=Status(intake.status),
        priority=intake.priority,
        computed_priority=Priority(intake.computed_priority),
        override=override,
        red_flags=raised_flags(intake, clinic),
        answers=_frozen(intake.answers),
        status_history=tuple(_step(change) for change in intake.status_history),
        questionnaire_version=intake.questionnaire_version,
        rule_set=intake.rule_set,
        rule_set_version=intake.rule_set_version,
        consent_version=intake.consent_version,
    )


def rules_in_force(clinic: Clinic) -> dict[str, Rule]:
    """The clinic's red-flag rules by id, in the rule set's order: the one lookup of them."""
    return {rule.id: rule for rule in clinic.rule_set.rules}


def raised_flags(intake: Intake | NewIntake, clinic: Clinic) -> tuple[RaisedFlag, ...]:
    """Every red flag of `intake`, current and superseded, in the order they were stored.

    Needs only the red flags loaded: the patient's receipt reads them from a replayed intake,
    or from the new one.
    """
    rules = rules_in_force(clinic)
    flags = []
    for flag in intake.red_flags:
        rule = rules.get(flag.rule_id)
        flags.append(
            RaisedFlag(
                rule_id=flag.rule_id,
                level=Priority(flag.level),
                titles=rule.title if rule else LocalizedText(flag.rule_id, flag.rule_id),
                rationale=rule.rationale if rule else "",
                source=rule.source if rule else "",
                triggering_answers=_frozen(flag.triggering_answers),
                rule_set_version=flag.rule_set_version,
                fired_at=flag.fired_at,
                superseded_at=flag.superseded_at,
            )
        )
    return tuple(flags)


def _step(change: StatusChange) -> StatusStep:
    return StatusStep(
        from_status=Status(change.from_status) if change.from_status else None,
        to_status=Status(change.to_status),
        at=change.changed_at,
        by=change.changed_by,
    )


def _urgency(flag: RaisedFlag) -> int:
    return flag.level.rank


def _frozen(stored: Mapping[str, object]) -> Mapping[str, object]:
    # A copy, read-only: the view must not change when the row does, nor change the row.
    return MappingProxyType(dict(stored))
