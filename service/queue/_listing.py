"""The reception queue as rows: one clinic-local day, level first, then the oldest first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.codes import Priority, Status
from service.models import Intake


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


class DayOutOfRangeError(ValueError):
    """A day whose start or end lies outside the calendar the service can count in."""


def day_bounds(day: date, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a clinic-local day starts and ends.

    The first and last days of the calendar (0001-01-01, 9999-12-31) may start or end outside
    what a `datetime` can hold once moved to UTC: those are refused, not clamped, since no
    intake or audit event can lie there.
    """
    try:
        start = datetime.combine(day, time.min, tzinfo=timezone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone)
        return start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:
        raise DayOutOfRangeError(
            f"{day.isoformat()} is outside the calendar the clinic's records can be on"
        ) from None


def _answer(link_id: str) -> ColumnElement[str]:
    """One text answer read in the database: the rest of the answers never leave it."""
    return func.coalesce(Intake.answers[link_id].as_string(), "")


# One clinic-local day's intakes in some statuses, in queue order: only the columns the queue
# shows, each status's day one range of the index `ix_intake_queue`. Built once, so its SQL and
# cache key serve every request; `queue_parameters` fills it in.
QUEUE_QUERY: Select[Any] = (
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
        Intake.status.in_(bindparam("statuses", expanding=True)),
        Intake.submitted_at >= bindparam("start"),
        Intake.submitted_at < bindparam("end"),
    )
    .order_by(Intake.queue_rank, Intake.submitted_at, Intake.id)
)


def queue_parameters(day: date, timezone: ZoneInfo, statuses: Iterable[Status]) -> dict[str, Any]:
    start, end = day_bounds(day, timezone)
    return {"statuses": sorted(status.value for status in statuses), "start": start, "end": end}


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
    # Plain rows on the session's connection: the ORM's result machinery has nothing to add.
    connection = await session.connection()
    rows = await connection.execute(QUEUE_QUERY, queue_parameters(day, timezone, statuses))
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
