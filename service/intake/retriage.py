"""Re-triage: evaluate open intakes again under the rule set in force.

Each intake is evaluated on the clinic-local date it was submitted, so its age and answers mean
what they meant then, and a second run finds nothing to change. Earlier red flags are kept,
marked superseded; a change of level is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service import audit
from service.clinic import Clinic
from service.codes import EventType, Status
from service.intake.new import NewRedFlag
from service.intake.outbox import record_intake_event
from service.intake.stored import answers_from_json, red_flags_of
from service.models import Intake, RedFlag
from service.triage import Priority, evaluate

# Still to be seen, or not come: everything but a finished or cancelled visit (issue #3).
RETRIAGE_STATUSES = tuple(s.value for s in Status if s not in {Status.DONE, Status.CANCELLED})
BATCH = 500


@dataclass
class RetriageReport:
    examined: int = 0
    reevaluated: int = 0
    level_changed: int = 0


def _same_flags(stored: list[RedFlag], fresh: Sequence[NewRedFlag]) -> bool:
    def key(flag: RedFlag | NewRedFlag) -> tuple[str, str, str]:
        return (flag.rule_id, flag.level, repr(sorted(flag.triggering_answers.items())))

    return sorted(map(key, stored)) == sorted(map(key, fresh))


async def count_open(session: AsyncSession) -> int:
    statement = select(func.count()).select_from(Intake).where(Intake.status.in_(RETRIAGE_STATUSES))
    return int(await session.scalar(statement) or 0)


async def retriage_open_intakes(
    session: AsyncSession,
    clinic: Clinic,
    now: datetime,
    on_progress: Callable[[int], None] = lambda _count: None,
) -> RetriageReport:
    """Re-evaluate every open intake; commit batch by batch so a long run can be resumed."""
    report = RetriageReport()
    after: datetime | None = None
    last_id = None
    while True:
        statement = (
            select(Intake)
            .where(Intake.status.in_(RETRIAGE_STATUSES))
            # The status history too: a change told in a server's process is prerendered.
            .options(selectinload(Intake.red_flags), selectinload(Intake.status_history))
            .order_by(Intake.submitted_at, Intake.id)
            .limit(BATCH)
        )
        if after is not None:
            statement = statement.where(
                (Intake.submitted_at > after)
                | ((Intake.submitted_at == after) & (Intake.id > last_id))
            )
        batch = list(await session.scalars(statement))
        if not batch:
            return report
        for intake in batch:
            _retriage_one(session, clinic, intake, now, report)
        await session.commit()
        on_progress(len(batch))
        after, last_id = batch[-1].submitted_at, batch[-1].id


def _retriage_one(
    session: AsyncSession, clinic: Clinic, intake: Intake, now: datetime, report: RetriageReport
) -> None:
    report.examined += 1
    answers = answers_from_json(clinic.questionnaire, intake.answers)
    triage = evaluate(clinic.rule_set, answers, clinic.today(intake.submitted_at))
    current = [flag for flag in intake.red_flags if flag.superseded_at is None]
    fresh = red_flags_of(triage, now)
    same = (
        (intake.rule_set, intake.rule_set_version) == (triage.rule_set, triage.rule_set_version)
        and intake.computed_priority == triage.level.value
        and _same_flags(current, fresh)
    )
    if same:
        return
    report.reevaluated += 1
    for flag in current:
        flag.superseded_at = now
    intake.red_flags.extend(flag.as_red_flag() for flag in fresh)
    before = Priority(intake.computed_priority)
    acted_on = intake.priority
    override = Priority(intake.override_priority) if intake.override_priority else None
    intake.set_priorities(triage.level, override)
    intake.rule_set = triage.rule_set
    intake.rule_set_version = triage.rule_set_version
    intake.revision += 1
    if before is not triage.level:
        report.level_changed += 1
        audit.record(
            session,
            audit.SYSTEM,
            "intake.retriaged",
            intake.id,
            from_priority=before.value,
            to_priority=triage.level.value,
            rule_set=triage.rule_set,
            rule_set_version=triage.rule_set_version,
        )
    if intake.priority is not acted_on:
        # Integrations hear of the level the clinic acts on; under an override it stays put.
        record_intake_event(
            session,
            EventType.INTAKE_PRIORITY_CHANGED,
            intake,
            now,
            previous_priority=acted_on.value,
        )
