"""`python -m service serve` as an outside tester meets it: bounded request heads, slow clients
closed, no banner, and a client that cannot pick its own address for the rate limits."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from service.server import HEAD_READ_SECONDS
from tests.patients import intake_body
from tests.server import LiveServer, live_server


@pytest.fixture
def server(service_env: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    with live_server({**service_env, "INTAKE_RATE_LIMIT_PER_MINUTE": "2"}, tmp_path / "log") as s:
        yield s


def connect(server: LiveServer) -> socket.socket:
    address = urlsplit(server.base_url)
    return socket.create_connection((address.hostname, address.port), timeout=60)


def closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes `sock` (reads until end of stream)."""
    started = time.monotonic()
    while sock.recv(65536):
        pass
    return time.monotonic() - started


def test_half_a_request_line_is_closed_within_seconds(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /hea")
        waited = closed_after(sock)
    assert waited < HEAD_READ_SECONDS + 3, f"held open {waited:.1f} s"


def test_an_idle_connection_after_an_answer_is_closed_within_seconds(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /hea")  # the next request never finishes its first line
        waited = closed_after(sock)
    assert waited < HEAD_READ_SECONDS + 3, f"held open {waited:.1f} s"


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


def test_x_forwarded_for_does_not_lift_the_rate_limit(server: LiveServer) -> None:
    url = f"{server.base_url}/api/v1/intakes"
    statuses = [httpx.post(url, json=intake_body(), timeout=30).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    forged = httpx.post(
        url, json=intake_body(), headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30
    )
    assert forged.status_code == 429
