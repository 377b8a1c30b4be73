"""What an intake action tells others, written in its own transaction, and what follows its commit.

Two notices go with each change: the webhook event (an outbox row) and the live-queue notice.
Both commit or roll back with the change they describe: no notice of an intake that was never
stored, and none lost for one that was. The live notice travels as PostgreSQL's NOTIFY from the
same transaction (delivered at commit to every worker, whichever process made the change, the
command line included); SQLite's server is one process, so there it is published after the
commit by the callbacks registered here. After every commit that carried changes, those
callbacks (`on_changes`) run from this one place: the live queue, the prerendered PDF and the
webhook worker's wake-up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

import structlog
from sqlalchemy import event, insert, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.codes import EventType
from service.intake.new import NewIntake
from service.models import Intake, OutboxEvent

log = structlog.get_logger(__name__)

# The channel the live queue's notices travel on (a PostgreSQL NOTIFY channel too).
CHANNEL = "queue"
_CHANGES = "intake.changes"
# Each callback with the database it follows (None: every database this process writes to).
_callbacks: dict[Callable[[list[IntakeChange]], None], str | None] = {}


@dataclass(frozen=True, slots=True)
class IntakeChange:
    """One change to one intake, as committed."""

    kind: EventType
    intake: Intake | NewIntake
    """Stored (a change to it), or new: submitted and committed, not loaded since."""
    notice: str
    """The live-queue notice (JSON): ids, level and status, never names or answers."""
    webhook: bool
    """Whether an outbox event was written for it (the webhook worker has work)."""


def intake_data(intake: Intake | NewIntake, **previous: str) -> dict[str, object]:
    """The `data` of an intake event: the intake as it is now, plus what changed from."""
    return {
        "id": str(intake.id),
        "reference": intake.reference,
        "priority": intake.priority.value,
        "status": intake.status,
        "submitted_at": intake.submitted_at.isoformat(),
        **previous,
    }


def queue_notice(kind: EventType, intake: Intake | NewIntake) -> str:
    """The message on the queue channel; a listener fetches the row it needs."""
    return json.dumps(
        {
            "event": kind.value,
            "id": str(intake.id),
            "priority": intake.priority.value,
            "status": intake.status,
            "submitted_at": intake.submitted_at.isoformat(),
        },
        separators=(",", ":"),
    )


def record_intake_event(
    session: AsyncSession, event_type: EventType, intake: Intake, now: datetime, **previous: str
) -> None:
    """Add the webhook event and the live notice to the session's transaction: one small INSERT,
    no query."""
    session.add(OutboxEvent(**event_row(event_type, intake, now, **previous)))
    _note(session, IntakeChange(event_type, intake, queue_notice(event_type, intake), webhook=True))


INSERT = insert(OutboxEvent)
"""Inserts `event_row`s (the intake writer's, for a batch of submissions)."""


def event_row(
    event_type: EventType, intake: Intake | NewIntake, now: datetime, **previous: str
) -> dict[str, object]:
    """The `outbox_event` row of a change to `intake`."""
    return {
        "id": uuid4(),
        "type": event_type.value,
        "payload": intake_data(intake, **previous),
        "created_at": now,
        "fanned_out_at": None,
    }


def new_intake_rows(intakes: list[NewIntake]) -> list[dict[str, object]]:
    """The `intake.created` outbox rows of new intakes, for the intake writer's INSERT."""
    return [event_row(EventType.INTAKE_CREATED, intake, intake.submitted_at) for intake in intakes]


def record_new_intakes(session: AsyncSession, intakes: list[NewIntake]) -> None:
    """The live notices of intakes whose rows (`new_intake_rows` included) the intake writer
    put in the session's transaction."""
    for change in _created(intakes):
        _note(session, change)


def _created(intakes: list[NewIntake]) -> list[IntakeChange]:
    kind = EventType.INTAKE_CREATED
    return [
        IntakeChange(kind, intake, queue_notice(kind, intake), webhook=True) for intake in intakes
    ]


def record_queue_notice(session: AsyncSession, kind: EventType, intake: Intake) -> None:
    """A change the queue shows but integrations are not told of (an acknowledged alert, an
    override that kept the level): the live notice only."""
    _note(session, IntakeChange(kind, intake, queue_notice(kind, intake), webhook=False))


def _note(session: AsyncSession, change: IntakeChange) -> None:
    session.info.setdefault(_CHANGES, []).append(change)


def on_changes(
    callback: Callable[[list[IntakeChange]], None], database: URL | None = None
) -> Callable[[], None]:
    """Call `callback` with the changes after each commit that carried some, to `database` only
    when given (an app follows the database it serves); returns the function that stops it."""
    _callbacks[callback] = None if database is None else _address(database)

    def stop() -> None:
        _callbacks.pop(callback, None)

    return stop


def _address(database: URL) -> str:
    return database.render_as_string(hide_password=False)


def on_commit(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` after each commit that wrote a webhook event; returns the function that stops
    it."""

    def woken(changes: list[IntakeChange]) -> None:
        if any(change.webhook for change in changes):
            wake()

    return on_changes(woken)


@event.listens_for(Session, "before_commit")
def _notify(session: Session) -> None:
    changes: list[IntakeChange] = session.info.get(_CHANGES, [])
    if not changes or session.get_bind().dialect.name != "postgresql":
        return
    # NOTIFY is transactional: heard by every listening worker at commit, never before. One
    # statement for the whole transaction, however many intakes a group commit holds.
    session.connection().execute(
        text(
            "SELECT pg_notify(:channel, notice)"
            " FROM unnest(CAST(:notices AS text[])) WITH ORDINALITY AS sent(notice, place)"
            " ORDER BY place"
        ),
        {"channel": CHANNEL, "notices": [change.notice for change in changes]},
    )


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if changes := session.info.pop(_CHANGES, None):
        committed_to = _address(session.get_bind().engine.url)
        for callback, database in tuple(_callbacks.items()):
            if database is not None and database != committed_to:
                continue
            try:
                callback(changes)
            except Exception as error:  # noqa: BLE001 - the change is committed: answer anyway
                # Raised here, it would fail a request whose change is already stored.
                log.warning("after-commit effect failed", error=type(error).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any) -> None:
    session.info.pop(_CHANGES, None)
