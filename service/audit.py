"""The audit trail: append-only events with ids, never names, phone numbers or answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import AuditEvent

ActorKind = Literal["staff", "token", "system", "patient"]


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
    **detail: str | int | bool | None,
) -> AuditEvent:
    """Add an event to the caller's transaction, so it commits or rolls back with the change."""
    event = AuditEvent(
        actor_kind=actor.kind, actor_id=actor.id, action=action, intake_id=intake_id, detail=detail
    )
    session.add(event)
    return event
