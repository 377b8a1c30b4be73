"""The reception queue as rows: one clinic-local day, level first, then the oldest first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Intake
from service.queue.status import Status
from service.triage.priority import Priority


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """What reception needs to call a patient: no answers, no red-flag titles."""

    id: UUID
    reference: str
    full_name: str
    phone: str
    priority: Priority
    status: Status
    submitted_at: datetime
    waiting_minutes: int
    long_wait: bool
    unacknowledged_emergency: bool


def day_bounds(day: date, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a clinic-local day starts and ends."""
    start = datetime.combine(day, time.min, tzinfo=timezone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _answer(link_id: str) -> ColumnElement[str]:
    """One text answer read in the database: the rest of the answers never leave it."""
    return func.coalesce(Intake.answers[link_id].as_string(), "")


def queue_statement(day: date, timezone: ZoneInfo, statuses: Iterable[Status]) -> Select[Any]:
    """One clinic-local day's intakes in these statuses, in queue order: only the columns the
    queue shows, each status's day one range of the index `ix_intake_queue`."""
    start, end = day_bounds(day, timezone)
    return (
        select(
            Intake.id,
            Intake.reference,
            _answer("full_name"),
            _answer("phone"),
            func.coalesce(Intake.override_priority, Intake.computed_priority),
            Intake.status,
            Intake.submitted_at,
            Intake.acknowledged_at,
        )
        .where(
            Intake.status.in_([status.value for status in statuses]),
            Intake.submitted_at >= start,
            Intake.submitted_at < end,
        )
        .order_by(Intake.queue_rank, Intake.submitted_at, Intake.id)
    )


async def queue_entries(
    session: AsyncSession,
    *,
    day: date,
    timezone: ZoneInfo,
    statuses: Iterable[Status],
    now: datetime,
    long_wait_minutes: Mapping[str, int],
) -> list[QueueEntry]:
    entries = []
    rows = await session.execute(queue_statement(day, timezone, statuses))
    for (
        intake_id,
        reference,
        full_name,
        phone,
        level,
        status,
        submitted_at,
        acknowledged_at,
    ) in rows:
        waiting = max(0, int((now - submitted_at).total_seconds() // 60))
        priority = Priority(level)
        entries.append(
            QueueEntry(
                id=intake_id,
                reference=reference,
                full_name=full_name,
                phone=phone,
                priority=priority,
                status=Status(status),
                submitted_at=submitted_at,
                waiting_minutes=waiting,
                long_wait=waiting >= long_wait_minutes[priority.value],
                unacknowledged_emergency=(
                    priority is Priority.EMERGENCY and acknowledged_at is None
                ),
            )
        )
    return entries
