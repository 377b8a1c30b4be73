"""Reading the audit trail back: recent events for admins, and a CSV a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import AuditEvent

COLUMNS = ("id", "occurred_at", "actor_kind", "actor_id", "action", "intake_id", "detail")
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Make a cell plain text for spreadsheets: a leading formula character gets a quote."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def to_csv(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row])
    return buffer.getvalue()


async def recent_events(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[AuditEvent]:
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if since is not None:
        statement = statement.where(AuditEvent.occurred_at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.occurred_at < until)
    return list(await session.scalars(statement))


def events_csv(events: Iterable[AuditEvent]) -> str:
    return to_csv(
        (
            (
                e.id,
                e.occurred_at.isoformat(),
                e.actor_kind,
                e.actor_id,
                e.action,
                e.intake_id,
                json.dumps(e.detail, sort_keys=True),
            )
            for e in events
        ),
        COLUMNS,
    )
