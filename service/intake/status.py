"""Moving an intake along the queue: only the contract's transitions, each one recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.codes import EventType, Status, can_move
from service.intake.outbox import record_intake_event, record_queue_notice
from service.models import Intake, StatusChange
from service.staff import Principal


class IllegalMoveError(ValueError):
    """The intake cannot go from its status to the one asked (the API answers 409)."""


async def change_status(
    session: AsyncSession, intake: Intake, target: Status, by: Principal, now: datetime
) -> None:
    current = Status(intake.status)
    if not can_move(current, target):
        raise IllegalMoveError(f"an intake that is {current} cannot become {target}")
    intake.status = target.value
    if target is Status.WITH_DOCTOR and intake.seen_after_seconds is None:
        waited = (now - intake.submitted_at).total_seconds()
        intake.seen_after_seconds = max(0, int(waited))
    session.add(
        StatusChange(
            intake_id=intake.id,
            from_status=current.value,
            to_status=target.value,
            changed_at=now,
            changed_by=by.staff_user_id,
        )
    )
    audit.record(
        session,
        by.actor,
        "intake.status_changed",
        intake.id,
        from_status=current.value,
        to_status=target.value,
    )
    record_intake_event(
        session, EventType.INTAKE_STATUS_CHANGED, intake, now, previous_status=current.value
    )
    await session.flush()


async def acknowledge_emergency(
    session: AsyncSession, intake: Intake, by: Principal, now: datetime
) -> None:
    """Reception has seen the new emergency: its alert can come down."""
    if intake.acknowledged_at is None:
        intake.acknowledged_at = now
        intake.acknowledged_by = by.staff_user_id
        audit.record(session, by.actor, "intake.emergency_acknowledged", intake.id)
        # Reception screens take the alert down; integrations are not told of it.
        record_queue_notice(session, EventType.INTAKE_STATUS_CHANGED, intake)
        await session.flush()
