"""A doctor's priority override: kept beside the computed level, never replacing it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.codes import EventType
from service.control_characters import has_control_characters
from service.models import Intake
from service.triage import Priority
from service.webhooks import record_intake_event

MAX_REASON = 1000


class OverrideError(ValueError):
    """The override cannot be made as asked; the message says why."""


async def override_priority(
    session: AsyncSession,
    intake: Intake,
    level: Priority,
    reason: str,
    *,
    actor: audit.Actor,
    staff_user_id: UUID | None,
    now: datetime,
) -> None:
    """Set the level the clinic acts on; the computed level and its red flags stay as they are."""
    reason = reason.strip()
    if not reason:
        raise OverrideError("an override needs a reason")
    if len(reason) > MAX_REASON:
        raise OverrideError(f"the reason must have at most {MAX_REASON} characters")
    if has_control_characters(reason, multi_line=True):
        raise OverrideError("the reason must not contain a control character")
    before = intake.priority
    intake.set_priorities(Priority(intake.computed_priority), level)
    intake.override_reason = reason
    intake.override_by = staff_user_id
    intake.overridden_at = now
    intake.revision += 1
    # The reason is clinical free text: the audit keeps the levels, the intake keeps the words.
    audit.record(
        session,
        actor,
        "intake.priority_overridden",
        intake.id,
        from_priority=before.value,
        to_priority=level.value,
        computed_priority=intake.computed_priority,
    )
    if level is not before:
        record_intake_event(
            session,
            EventType.INTAKE_PRIORITY_CHANGED,
            intake,
            now,
            previous_priority=before.value,
        )
    await session.flush()
