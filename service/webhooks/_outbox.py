"""Writing events to the outbox, inside the caller's transaction, and waking the worker.

An event row commits or rolls back with the change it describes: no notice of an intake that
was never stored, and none lost for one that was. After a commit that wrote one, the workers of
this process wake at once; other processes' workers find it on their next poll.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.codes import EventType
from service.models import Intake, OutboxEvent
from service.webhooks._events import intake_data

_WROTE_EVENTS = "webhooks.wrote_events"
_wake_callbacks: set[Callable[[], None]] = set()


def record_intake_event(
    session: AsyncSession, event_type: EventType, intake: Intake, now: datetime, **previous: str
) -> None:
    """Add the event to the session's transaction: one small INSERT, no query."""
    session.add(
        OutboxEvent(
            id=uuid4(),
            type=event_type.value,
            payload=intake_data(intake, **previous),
            created_at=now,
        )
    )
    session.info[_WROTE_EVENTS] = True


def on_commit(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` after each commit that wrote an event; returns the function that stops it."""
    _wake_callbacks.add(wake)
    return lambda: _wake_callbacks.discard(wake)


@event.listens_for(Session, "after_commit")
def _wake_workers(session: Session) -> None:
    if session.info.pop(_WROTE_EVENTS, False):
        for wake in tuple(_wake_callbacks):
            wake()


@event.listens_for(Session, "after_soft_rollback")
def _forget_events(session: Session, _previous: Any) -> None:
    session.info.pop(_WROTE_EVENTS, None)
