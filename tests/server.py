"""A real server process on 127.0.0.1, for tests where the process boundary matters."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from service.settings import ROOT
from tests.waiting import eventually_blocking


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(env: Mapping[str, str], log_path: Path, port: int | None = None) -> LiveServer:
    """Start `python -m service serve` (the production server); return once it answers, or
    once it has exited."""
    port = port or free_port()
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    # Generous: several workers each load the app, on a machine that may be busy. One client
    # for all the tries: a new one each time costs more than the try (it loads a TLS context).
    deadline = time.monotonic() + 90
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                client.get("/health")
            except httpx.TransportError:
                time.sleep(0.1)
            else:
                return server
    return server


def service_settings(database_url: URL, folder: Path, **extra: str) -> dict[str, str]:
    """The environment a test's service reads: its own database and folder, a known secret, no
    rate limits, and neither a webhook worker nor a PDF prerender (the tests of each turn it
    on), so no process starts that the test does not need."""
    return {
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "VAR_DIR": str(folder / "var"),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-sessions",
        "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
        "LOGIN_RATE_LIMIT_PER_MINUTE": "0",
        "SUMMARY_PRERENDER": "false",
        "WEBHOOK_WORKER": "false",
        **extra,
    }


@contextmanager
def live_server(env: Mapping[str, str], log_path: Path) -> Iterator[LiveServer]:
    server = start_server(env, log_path)
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextmanager
def serving(env: Mapping[str, str], log_path: Path) -> Iterator[LiveServer]:
    """A live server that must start: the test fails, with the server's log, if it does not."""
    with live_server(env, log_path) as server:
        if server.process.poll() is not None:
            pytest.fail(f"the server did not start:\n{server.log()}")
        yield server


def pid_serving(server: LiveServer, client: httpx.Client) -> int:
    """The pid of the worker process that answers on `client`'s (kept-alive) connection."""
    request_id = uuid.uuid4().hex
    assert client.get("/health", headers={"X-Request-ID": request_id}).status_code == 200

    def logged_pid() -> int | None:
        for line in server.log().splitlines():
            if request_id in line and line.startswith("{"):
                return int(json.loads(line)["pid"])
        return None

    pid: int = eventually_blocking(logged_pid, within=10, what=f"a log line of {request_id}")
    return pid


def clients_on_each_worker(server: LiveServer, workers: int) -> list[httpx.Client]:
    """One client per worker process, each holding a kept-alive connection to its worker.

    The kernel hands each new connection to whichever worker accepts first; connections are
    opened until every worker holds one, and the ones found are kept busy meanwhile (an idle
    connection is closed after seconds). Use them at once; close them after."""
    deadline = time.monotonic() + 90
    while server.log().count("Application startup complete") < workers:
        assert time.monotonic() < deadline, f"{workers} workers did not start:\n{server.log()}"
        time.sleep(0.2)
    found: dict[int, httpx.Client] = {}
    while len(found) < workers:
        assert time.monotonic() < deadline, f"only {len(found)} of {workers} workers answered"
        for kept in found.values():
            kept.get("/health")
        client = httpx.Client(
            base_url=server.base_url,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=30,
        )
        pid = pid_serving(server, client)
        if pid in found:
            client.close()
        else:
            found[pid] = client
    return list(found.values())
