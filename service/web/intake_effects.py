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

import structlog
from litestar.channels import ChannelsPlugin

from service.clinic import Clinic
from service.codes import EventType
from service.intake.new import NewIntake
from service.intake.outbox import CHANNEL, IntakeChange, on_changes
from service.models import Intake
from service.settings import Settings
from service.summary import SummaryRenderer, summary_of

log = structlog.get_logger(__name__)

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

    async def prerender(intake: Intake | NewIntake) -> None:
        try:
            stored = intake.as_intake() if isinstance(intake, NewIntake) else intake
            await summaries.prerender(summary_of(stored, clinic))
        except Exception as error:  # noqa: BLE001 - a prerender is an optimisation
            # By class only: a traceback could carry the patient's answers into the log.
            log.warning("summary prerender failed", error=type(error).__name__)

    def follow_here(changes: list[IntakeChange]) -> None:
        for change in changes:
            try:
                if settings.is_sqlite:
                    channels.publish(change.notice, CHANNEL)
                # Under a burst, summaries that would never be rendered only slow the burst.
                if change.kind in _PRERENDERED and summaries.has_room_to_prerender():
                    task = asyncio.get_running_loop().create_task(prerender(change.intake))
                    rendering.add(task)
                    task.add_done_callback(rendering.discard)
            except Exception as error:  # noqa: BLE001 - the other changes are still told
                log.warning("after-commit effect failed", error=type(error).__name__)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()

        def follow(changes: list[IntakeChange]) -> None:
            # The commit may run on another thread's loop (a command run in process, the test
            # client): the channels and the tasks belong to the app's own loop.
            loop.call_soon_threadsafe(follow_here, changes)

        stop = on_changes(follow, settings.database_url)
        try:
            yield
        finally:
            stop()
            await asyncio.sleep(0)  # the changes handed over just before the stop
            await asyncio.gather(*rendering, return_exceptions=True)

    return lifespan
