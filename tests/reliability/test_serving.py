"""`python -m service serve` as an outside tester meets it: bounded request heads, slow clients
closed, no banner, and a client that cannot pick its own address for the rate limits."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from service.server import HEAD_READ_SECONDS, REQUEST_READ_SECONDS
from service.web.inputs import MAX_BODY
from tests.databases import DatabaseFactory
from tests.patients import intake_body
from tests.server import LiveServer, live_server, service_settings, serving

T = TypeVar("T")


@pytest.fixture(scope="module")
def server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server for the module: each test opens connections of its own and closes them, and
    only the rate-limit test counts what was stored (on a server of its own)."""
    folder = tmp_path_factory.mktemp("serving")
    with serving(service_settings(databases.migrated(), folder), folder / "log") as started:
        yield started


@pytest.fixture
def limited_server(service_env: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh server allowing two intakes a minute: no other test's intake counts."""
    with live_server({**service_env, "INTAKE_RATE_LIMIT_PER_MINUTE": "2"}, tmp_path / "log") as s:
        yield s


def connect(server: LiveServer) -> socket.socket:
    address = urlsplit(server.base_url)
    return socket.create_connection((address.hostname, address.port), timeout=60)


def closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes `sock` (reads until end of stream)."""
    started = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        pass  # still open when the socket's timeout ran out: the caller's assertion says so
    return time.monotonic() - started


def answer_status(sock: socket.socket) -> int:
    """Read one whole answer (its head and `Content-Length` body) from `sock`; its status."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of an answer"
        body += chunk
    return int(lines[0].split()[1])


def intake_head(length: int) -> bytes:
    return (
        b"POST /api/v1/intakes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


# The slow clients. Each holds a connection for seconds (the trickle for over half a minute) and
# only waits meanwhile, so the module starts them all at once on its server (`slow_clients`)
# and each test then checks its own. Each returns what its test asserts.


def half_a_request_line(server: LiveServer) -> float:
    """Seconds a connection that sent half a request line is held open."""
    with connect(server) as sock:
        sock.sendall(b"GET /hea")
        return closed_after(sock)


def idle_after_an_answer(server: LiveServer) -> float:
    """Seconds a connection is held open after an answer, when the next request stalls."""
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /hea")  # the next request never finishes its first line
        return closed_after(sock)


def next_request_after_an_early_answer(server: LiveServer) -> float:
    """An answer sent before the body is read (a 413 on `Content-Length`) leaves the body to
    arrive after it; seconds the next, stalled, request is held open once it has."""
    too_long = MAX_BODY + 1
    with connect(server) as sock:
        sock.sendall(intake_head(too_long))
        assert answer_status(sock) == 413
        sock.sendall(b"x" * too_long)
        time.sleep(1)
        sock.sendall(b"GET / HT")
        return closed_after(sock)


def body_trickled_a_byte_at_a_time(server: LiveServer) -> float:
    """Seconds until a body sent one byte every 2 s is cut."""
    with connect(server) as sock:
        sock.sendall(intake_head(1000))
        started = time.monotonic()
        sock.settimeout(2)
        closed = False
        while not closed and time.monotonic() - started < REQUEST_READ_SECONDS + 15:
            try:
                closed = sock.recv(65536) == b""
            except TimeoutError:
                sock.sendall(b" ")
            except ConnectionError:
                closed = True
        return time.monotonic() - started


def slow_upload(server: LiveServer) -> tuple[int, int]:
    """A body sent over longer than the head deadline (but well within the request's): the
    status of its answer, then of the next request on the same connection."""
    body = json.dumps(intake_body()).encode()
    pieces = [body[i : i + len(body) // 4 + 1] for i in range(0, len(body), len(body) // 4 + 1)]
    with connect(server) as sock:
        sock.sendall(intake_head(len(body)))
        for piece in pieces:
            time.sleep((HEAD_READ_SECONDS + 2) / len(pieces))
            sock.sendall(piece)
        answered = answer_status(sock)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return answered, answer_status(sock)


SLOW_CLIENTS = (
    half_a_request_line,
    idle_after_an_answer,
    next_request_after_an_early_answer,
    body_trickled_a_byte_at_a_time,
    slow_upload,
)


@pytest.fixture(scope="module")
def slow_clients(server: LiveServer) -> Iterator[dict[str, Future[Any]]]:
    """Every slow client started at once on the module's server, by name: each on a
    connection of its own, as separate clients would be."""
    with ThreadPoolExecutor(max_workers=len(SLOW_CLIENTS)) as pool:
        yield {client.__name__: pool.submit(client, server) for client in SLOW_CLIENTS}


def outcome(slow_clients: dict[str, Future[Any]], client: Callable[[LiveServer], T]) -> T:
    result: T = slow_clients[client.__name__].result(timeout=REQUEST_READ_SECONDS + 60)
    return result


def test_half_a_request_line_is_closed_within_seconds(
    slow_clients: dict[str, Future[Any]],
) -> None:
    waited = outcome(slow_clients, half_a_request_line)
    assert waited < HEAD_READ_SECONDS + 3, f"held open {waited:.1f} s"


def test_an_idle_connection_after_an_answer_is_closed_within_seconds(
    slow_clients: dict[str, Future[Any]],
) -> None:
    waited = outcome(slow_clients, idle_after_an_answer)
    assert waited < HEAD_READ_SECONDS + 3, f"held open {waited:.1f} s"


def test_the_next_request_after_an_early_answer_has_the_head_deadline(
    slow_clients: dict[str, Future[Any]],
) -> None:
    waited = outcome(slow_clients, next_request_after_an_early_answer)
    assert waited < HEAD_READ_SECONDS + 3, f"held open {waited:.1f} s"


def test_a_body_trickled_a_byte_at_a_time_is_cut(slow_clients: dict[str, Future[Any]]) -> None:
    waited = outcome(slow_clients, body_trickled_a_byte_at_a_time)
    assert waited < REQUEST_READ_SECONDS + 3, f"held open {waited:.1f} s"


def test_a_slow_upload_is_answered_and_its_connection_kept_alive(
    slow_clients: dict[str, Future[Any]],
) -> None:
    assert outcome(slow_clients, slow_upload) == (201, 200)


def test_a_50_mb_header_is_refused(server: LiveServer) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + b"a" * 50_000_000
    with connect(server) as sock:
        try:
            sock.sendall(head + b"\r\n\r\n")
            answer = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""  # refused by closing: as good as a 4xx
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:100]
    # The server is still there for everyone else.
    assert httpx.get(f"{server.base_url}/health", timeout=10).status_code == 200


def test_a_normal_request_is_answered_without_a_server_banner(server: LiveServer) -> None:
    response = httpx.get(f"{server.base_url}/health", timeout=10)
    assert response.status_code == 200
    assert "server" not in response.headers


def test_x_forwarded_for_does_not_lift_the_rate_limit(limited_server: LiveServer) -> None:
    url = f"{limited_server.base_url}/api/v1/intakes"
    statuses = [httpx.post(url, json=intake_body(), timeout=30).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    forged = httpx.post(
        url, json=intake_body(), headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30
    )
    assert forged.status_code == 429
