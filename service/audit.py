"""The audit trail: append-only events with ids, never names, phone numbers or answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.codes import ActorKind
from service.models import AuditEvent, utc_now

Detail = str | int | bool | None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a signed-in staff user, an API token, the system itself, or a patient."""

    kind: ActorKind
    id: str | None = None


SYSTEM = Actor("system")


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    intake_id: UUID | None = None,
    **detail: Detail,
) -> AuditEvent:
    """Add an event to the caller's transaction, so it commits or rolls back with the change."""
    event = AuditEvent(
        actor_kind=actor.kind, actor_id=actor.id, action=action, intake_id=intake_id, detail=detail
    )
    session.add(event)
    return event


@dataclass(frozen=True, slots=True)
class Event:
    """One event for `write`: the same fields `record` takes."""

    actor: Actor
    action: str
    intake_id: UUID | None = None
    detail: Mapping[str, Detail] = field(default_factory=dict)


INSERT = insert(AuditEvent)
"""Inserts `rows` of events (the intake writer's, for a batch of submissions)."""


def rows(events: Iterable[Event], now: datetime) -> list[dict[str, object]]:
    """The `audit_event` rows of `events`, as having happened at `now`."""
    return [
        {
            "occurred_at": now,
            "actor_kind": event.actor.kind,
            "actor_id": event.actor.id,
            "action": event.action,
            "intake_id": event.intake_id,
            "detail": dict(event.detail),
        }
        for event in events
    ]


async def write(session: AsyncSession, *events: Event) -> None:
    """Insert events at once, in the caller's transaction, without the ORM's unit of work.

    For a read, which has nothing else to flush, the unit of work was most of the cost of
    auditing it. The events commit or roll back with the session, like `record`'s.
    """
    await (await session.connection()).execute(INSERT, rows(events, utc_now()))
