"""The actions taken on intakes, one method each: load, act, audit, commit once.

What follows a commit (the live queue, the prerendered PDF, the webhook worker's wake-up) is
not the callers' business: it runs from `service.intake.outbox`, after any commit that carried
a change, whoever committed it (a page, the API, the command line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.clinic import Clinic
from service.codes import Priority, Status
from service.intake.override import override_priority
from service.intake.retriage import RetriageReport, retriage_open_intakes
from service.intake.status import acknowledge_emergency, change_status
from service.models import Intake
from service.staff import Principal


class IntakeNotFoundError(LookupError):
    """No intake has this id (pages and the API answer 404)."""


@dataclass(frozen=True, slots=True)
class IntakeService:
    """The intake actions of one request (or one command), on its database session."""

    session: AsyncSession
    clinic: Clinic

    async def load(self, intake_id: UUID) -> Intake:
        """The intake with its red flags and status history, as staff see it."""
        statement = (
            select(Intake)
            .where(Intake.id == intake_id)
            .options(selectinload(Intake.red_flags), selectinload(Intake.status_history))
        )
        intake = await self.session.scalar(statement)
        if intake is None:
            raise IntakeNotFoundError(intake_id)
        return intake

    async def move(self, intake: Intake, target: Status, by: Principal, now: datetime) -> None:
        """Move along the queue; raises IllegalMoveError for a move the contract forbids."""
        await change_status(self.session, intake, target, by, now)
        await self.session.commit()

    async def override(
        self, intake: Intake, level: Priority, reason: str, by: Principal, now: datetime
    ) -> None:
        """A doctor's override; raises OverrideError when the reason is not usable."""
        await override_priority(
            self.session,
            intake,
            level,
            reason,
            actor=by.actor,
            staff_user_id=by.staff_user_id,
            now=now,
        )
        await self.session.commit()

    async def acknowledge(self, intake: Intake, by: Principal, now: datetime) -> None:
        """Reception has seen the new emergency: its alert comes down."""
        await acknowledge_emergency(self.session, intake, by, now)
        await self.session.commit()

    async def retriage(
        self, now: datetime, on_progress: Callable[[int], None] = lambda _count: None
    ) -> RetriageReport:
        """Every open intake evaluated again under the clinic's rule set, batch by batch."""
        return await retriage_open_intakes(self.session, self.clinic, now, on_progress)
