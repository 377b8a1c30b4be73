"""What a request that takes in an intake needs, as one dependency.

Litestar resolves the dependencies of one level of a handler concurrently, in a task group with
a task each; for the busiest route of the service that machinery cost more than the work (about
a tenth of a submission's CPU). One dependency, itself depending on the request's session,
resolves in two plain steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.intake import IntakeWriter
from service.summary import SummaryRenderer


@dataclass(frozen=True, slots=True)
class IntakeDesk:
    session: AsyncSession
    """The request's own session: idempotency-key lookups, and the replay of a stored intake."""
    clinic: Clinic
    writer: IntakeWriter
    """Commits new intakes, shared with the intakes submitted at the same moment."""
    summaries: SummaryRenderer
    """Prerenders the doctor's PDF after the answer."""
    channels: ChannelsPlugin
    """Tells the live reception queue."""
