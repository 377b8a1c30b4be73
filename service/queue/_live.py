"""Where live queue events travel: in memory for one process on SQLite, or through
PostgreSQL LISTEN/NOTIFY so that every worker and machine on one database sees every change.

The ids of ended staff sessions travel the same way, so that their open streams close.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from uuid import UUID

import anyio
import structlog
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend

from service.queue._events import CHANNEL
from service.settings import Settings
from service.staff.sessions import SESSION_CHANNEL, on_ended

log = structlog.get_logger(__name__)

# Seconds to connect for, or to send one notice, before it is given up.
NOTIFY_TIMEOUT = 2.0


class TolerantAsyncPgChannelsBackend(AsyncPgChannelsBackend):
    """Starts even while PostgreSQL is down (the service must, to answer /health with 503);
    the listening connection is then made when the first page subscribes."""

    async def on_startup(self) -> None:
        try:
            await super().on_startup()
        except OSError as error:
            log.warning(
                "live queue not connected yet: database unavailable", error=type(error).__name__
            )

    _publisher: Any = None  # an asyncpg.Connection (asyncpg ships no type information)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """NOTIFY on one kept connection, made again once lost. Litestar's backend connects
        for every message: a PostgreSQL server process started and ended for each queue change,
        which cost more than storing the intake itself."""
        if self._queue is None:
            raise RuntimeError("the live queue backend has not started")
        try:
            if self._publisher is None or self._publisher.is_closed():
                async with asyncio.timeout(NOTIFY_TIMEOUT):
                    self._publisher = await self._connect()
            for channel in channels:
                await self._publisher.execute(
                    "SELECT pg_notify($1, $2);", channel, data.decode(), timeout=NOTIFY_TIMEOUT
                )
        except Exception as error:  # noqa: BLE001 - a lost notice must not stop the next ones
            # Raised, it would end Litestar's publishing task and every later live update.
            # Screens catch up on their next full reload; the intake itself is stored.
            log.warning("live queue notice not sent", error=type(error).__name__)
            publisher, self._publisher = self._publisher, None
            if publisher is not None:
                publisher.terminate()  # a broken connection is not used again

    async def on_shutdown(self) -> None:
        if self._publisher is not None:
            publisher, self._publisher = self._publisher, None
            publisher.terminate()
        await super().on_shutdown()

    async def subscribe(self, channels: Iterable[str]) -> None:
        listener = getattr(self, "_listener_conn", None)
        if listener is None or listener.is_closed():
            self._listener_conn = await self._connect()
            self._subscribed_channels.clear()
        await super().subscribe(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        # A browser that goes away cancels its stream; finishing UNLISTEN anyway keeps the
        # backend's idea of what it listens to true, or the next page would never hear.
        with anyio.CancelScope(shield=True):
            await super().unsubscribe(channels)


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    backend: ChannelsBackend
    if settings.is_sqlite:
        backend = MemoryChannelsBackend(history=0)
    else:
        dsn = settings.database_url.set(drivername="postgresql")
        backend = TolerantAsyncPgChannelsBackend(dsn=dsn.render_as_string(hide_password=False))
    return ChannelsPlugin(backend=backend, channels=[CHANNEL, SESSION_CHANNEL])


def session_end_notices(
    channels: ChannelsPlugin, settings: Settings
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan that passes this process's session ends to its streams, on SQLite.

    On PostgreSQL the transaction that ends a session NOTIFYs by itself, heard by every worker
    (service.staff.sessions), so there is nothing to add. SQLite serves from one process: the
    ends committed in it are published to its in-memory backend after the commit.
    """

    def publish(ids: list[UUID]) -> None:
        for session_id in ids:
            channels.publish(str(session_id), SESSION_CHANNEL)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = on_ended(publish) if settings.is_sqlite else None
        try:
            yield
        finally:
            if stop is not None:
                stop()

    return lifespan
