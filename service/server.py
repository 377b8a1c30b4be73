"""`python -m service serve`: uvicorn, as the service runs in production, with its limits.

Why uvicorn with h11 and not granian (measured on this app, November 2026, both on 127.0.0.1):
granian 2.8.7 closes half a request line after its header read timeout and refuses a 50 MB
header, but it sends `server: granian` on every answer and cannot be told not to (its issue
#594 is open). uvicorn's h11 parser refuses a header block over `h11_max_incomplete_event_size`
(400, connection closed) and uvicorn sends no banner with `server_header=False`, but it has no
timeout at all while a request's head is arriving (its keep-alive timer is cancelled by the
first byte, and for good): half a request line stayed open for as long as we waited.
`RequestDeadlineProtocol` adds a deadline for the head and one for the body to uvicorn's own h11
protocol.

Proxy headers are uvicorn's to ignore (`proxy_headers=False`): `service.web.proxies` alone
decides which peers are believed, from `TRUSTED_PROXIES`.
"""

from __future__ import annotations

import asyncio

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.settings import Settings
from service.web.inputs import MAX_BODY

APP_FACTORY = "service.app:create_app"

HEAD_READ_SECONDS = 5.0
"""A connection must deliver a whole request head (request line and headers) this soon after it
opens, or after the previous answer on it: a slow or silent client is closed, not waited for."""

MAX_HEAD_BYTES = 16 * 1024
"""A request head (request line and headers) still incomplete past this many bytes is refused
(400) and its connection closed. h11 checks at each read, so a head that arrives whole in one
read (at most 256 KiB, asyncio's read size) is still parsed: the bound is that, not 50 MB.
Browsers send a few KiB; nginx in front allows 4 lines of 8 KiB (scripts/nginx)."""

SLOWEST_UPLOAD_BYTES_PER_SECOND = 2 * 1024
"""The slowest upload still waited for: 16 kbit/s, below what a phone on GPRS sends."""

REQUEST_READ_SECONDS = HEAD_READ_SECONDS + MAX_BODY / SLOWEST_UPLOAD_BYTES_PER_SECOND
"""A whole request (head and body) must arrive this soon after it is due (37 s): the largest
body the service accepts (64 KiB) at the slowest upload. A body trickled slower is cut."""

KEEP_ALIVE_SECONDS = 5
"""An idle keep-alive connection is closed after this long."""


class RequestDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request does not arrive in time.

    A request is due when the connection opens and whenever h11 starts a new cycle on it (the
    previous answer is out and the previous body has arrived, in either order: an answer sent
    before the body was read leaves the body to come after it). From then its head must arrive
    within `HEAD_READ_SECONDS` and its body within `REQUEST_READ_SECONDS`. Time the app takes
    after the whole request has arrived (the live queue's event stream) is not limited.

    uvicorn's own keep-alive timer is no bound: any byte from the client cancels it for good.
    """

    _deadline: asyncio.TimerHandle | None = None
    _deadline_covers: object = None
    """The client's h11 state the running deadline bounds: `h11.IDLE` (the head is due) or
    `h11.SEND_BODY` (the body is)."""
    _request_due = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow_the_client()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_the_client()

    def on_response_complete(self) -> None:
        request_read = self.conn.their_state is h11.DONE
        super().on_response_complete()
        if request_read and not self.transport.is_closing():
            # h11 has started the next cycle (and parsed any pipelined request): due from now.
            self._stop_deadline()
            self._request_due = self.loop.time()
            self._follow_the_client()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def _follow_the_client(self) -> None:
        """Bound what the client owes now; a bound already running for it keeps its time."""
        owes = self.conn.their_state
        if owes is self._deadline_covers:
            return
        self._stop_deadline()
        if owes is h11.IDLE:
            self._request_due = self.loop.time()
            self._start_deadline(owes, HEAD_READ_SECONDS)
        elif owes is h11.SEND_BODY:
            self._start_deadline(owes, REQUEST_READ_SECONDS)

    def _start_deadline(self, owes: object, seconds: float) -> None:
        self._deadline_covers = owes
        self._deadline = self.loop.call_at(self._request_due + seconds, self._too_slow)

    def _stop_deadline(self) -> None:
        self._deadline_covers = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
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
        http=RequestDeadlineProtocol,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        access_log=False,
    )
