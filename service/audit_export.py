"""Reading the audit trail back: recent events for admins, and a CSV a spreadsheet opens safely."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import AuditEvent
from service.spreadsheet import to_csv

COLUMNS = ("id", "occurred_at", "actor_kind", "actor_id", "action", "intake_id", "detail")


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
