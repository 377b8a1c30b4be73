"""What follows a committed intake change in the server: the live queue and the prerendered PDF.

Registered once, for the app's lifetime, on `service.intake.outbox`'s after-commit hook, so no
handler publishes or prerenders by itself, and a change made outside a request (a re-triage in
this process) reaches open reception screens too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar.channels import ChannelsPlugin

from service.clinic import Clinic
from service.codes import EventType
from service.intake.outbox import CHANNEL, IntakeChange, on_changes
from service.models import Intake
from service.settings import Settings
from service.summary import SummaryRenderer, summary_of

# The summary shows the level and the override: a new one is worth rendering before it is asked.
_PRERENDERED = frozenset({EventType.INTAKE_CREATED, EventType.INTAKE_PRIORITY_CHANGED})


def intake_effects(
    channels: ChannelsPlugin, summaries: SummaryRenderer, clinic: Clinic, settings: Settings
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan that follows every committed intake change while the app runs.

    On PostgreSQL the live notice was NOTIFYed by the change's own transaction and every worker
    hears it (the command line's changes too); SQLite serves from one process, whose commits
    are published here to its in-memory channels.
    """
    rendering: set[asyncio.Task[None]] = set()

    async def prerender(intake: Intake) -> None:
        await summaries.prerender(summary_of(intake, clinic))

    def follow(changes: list[IntakeChange]) -> None:
        for change in changes:
            if settings.is_sqlite:
                channels.publish(change.notice, CHANNEL)
            # Under a burst, summaries that would never be rendered only slow the burst.
            if change.kind in _PRERENDERED and summaries.has_room_to_prerender():
                task = asyncio.get_running_loop().create_task(prerender(change.intake))
                rendering.add(task)
                task.add_done_callback(rendering.discard)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = on_changes(follow)
        try:
            yield
        finally:
            stop()
            await asyncio.gather(*rendering, return_exceptions=True)

    return lifespan
