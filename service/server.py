"""`python -m service serve`: uvicorn, as the service runs in production, with its limits.

Why uvicorn with h11 and not granian (measured on this app, November 2026, both on 127.0.0.1):
granian 2.8.7 closes half a request line after its header read timeout and refuses a 50 MB
header, but it sends `server: granian` on every answer and cannot be told not to (its issue
#594 is open). uvicorn's h11 parser refuses a header block over `h11_max_incomplete_event_size`
(400, connection closed) and uvicorn sends no banner with `server_header=False`, but it has no
timeout at all while a request's head is arriving (its keep-alive timer is cancelled by the
first byte): half a request line stayed open for as long as we waited. `HeadDeadlineProtocol`
adds that one missing deadline to uvicorn's own h11 protocol.

Proxy headers are uvicorn's to ignore (`proxy_headers=False`): `service.web.proxies` alone
decides which peers are believed, from `TRUSTED_PROXIES`.
"""

from __future__ import annotations

import asyncio

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.settings import Settings

APP_FACTORY = "service.app:create_app"

HEAD_READ_SECONDS = 5.0
"""A connection must deliver a whole request head (request line and headers) this soon after it
opens, or after the previous answer on it: a slow or silent client is closed, not waited for."""

MAX_HEAD_BYTES = 16 * 1024
"""A request head (request line and headers) still incomplete past this many bytes is refused
(400) and its connection closed. h11 checks at each read, so a head that arrives whole in one
read (at most 256 KiB, asyncio's read size) is still parsed: the bound is that, not 50 MB.
Browsers send a few KiB; nginx in front allows 4 lines of 8 KiB (scripts/nginx)."""

KEEP_ALIVE_SECONDS = 5
"""An idle keep-alive connection is closed after this long."""


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head does not arrive in time.

    The deadline starts when the connection opens and again when an answer is complete (the
    next request's head is due), and stops as soon as h11 has parsed a whole head: bodies and
    long answers (the live queue's event stream) are not limited by it.
    """

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request may already be in progress: its head has arrived.
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._start_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_deadline()
        super().connection_lost(exc)

    def _start_head_deadline(self) -> None:
        self._stop_head_deadline()
        self._head_deadline = self.loop.call_later(HEAD_READ_SECONDS, self._head_too_slow)

    def _stop_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until stopped: `settings.workers` processes, each with the app's lifespans."""
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        http=HeadDeadlineProtocol,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        access_log=False,
    )
