"""A real webhook receiver on 127.0.0.1: a threaded stdlib HTTP server that records each request.

Each request is answered with the next planned status (200 once the plan runs out). A planned
`HANG` holds the request open until the test releases it, so a sender can be killed mid-send.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.waiting import eventually_blocking

HANG = -1


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # room for a worker's concurrent requests


class Receiver:
    def __init__(self) -> None:
        self.plan: deque[int] = deque()
        self.received: list[Received] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def answer(self, *statuses: int) -> None:
        """The statuses of the next requests, in order; 200 after them."""
        with self._lock:
            self.plan.extend(statuses)

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def delivered_ids(self) -> set[str]:
        return {r.webhook_id for r in self.requests() if 200 <= r.answered < 300}

    def wait_for(self, done: Callable[[Receiver], bool], timeout: float = 15) -> None:
        eventually_blocking(
            lambda: done(self), timeout, lambda: f"the receiver, which got {self.requests()}"
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    status = receiver.plan.popleft() if receiver.plan else 200
                    receiver.received.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                        )
                    )
                if status == HANG:
                    receiver.release.wait(60)
                    return
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("location", receiver.url + "/elsewhere")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def closed_port_url() -> str:
    """A URL where nothing listens: every attempt fails to connect."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"
