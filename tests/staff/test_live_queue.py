"""The live queue over real server processes: server-sent events, and on PostgreSQL across
two servers sharing one database (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from service.intake.outbox import CHANNEL
from service.queue import TolerantAsyncPgChannelsBackend
from tests.patients import intake_body
from tests.server import LiveServer, live_server
from tests.staff.support import make_staff


class EventReader(threading.Thread):
    """Reads one server's queue stream in the background, as a reception screen would: with
    an API token, or with a signed-in browser's cookies."""

    def __init__(
        self, server: LiveServer, token: str | None = None, cookies: httpx.Cookies | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.url = f"{server.base_url}/staff/queue/events"
        self.token = token
        self.cookies = cookies
        self.connected = threading.Event()
        self.finished = threading.Event()
        self.events: list[dict[str, object]] = []
        self.raw: list[str] = []
        self._socket: socket.socket | None = None

    def run(self) -> None:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            with httpx.stream(
                "GET", self.url, headers=headers, cookies=self.cookies, timeout=60
            ) as response:
                assert response.status_code == 200
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                for line in response.iter_lines():
                    self.raw.append(line)
                    if line.startswith(": connected"):
                        self.connected.set()
                    if line.startswith("data: {"):
                        self.events.append(json.loads(line.removeprefix("data: ")))
        except httpx.RemoteProtocolError:
            pass  # the server was stopped at the end of the test, this stream still open
        except httpx.ReadError:
            pass  # closed by `close`
        finally:
            self.finished.set()

    def close(self) -> None:
        """Leave, as a screen that is closed: the server ends the stream (and can stop at
        once, where it would wait for an open stream to run its course)."""
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        assert self.finished.wait(5), "the stream did not end"

    def wait_for(self, count: int, seconds: float = 2.0) -> list[dict[str, object]]:
        deadline = time.monotonic() + seconds
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.events


def _env(service_env: dict[str, str]) -> dict[str, str]:
    return {**service_env, "LIVE_STREAM_SECONDS": "8"}


def test_a_new_intake_reaches_the_live_stream_once_with_ids_and_level_only(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    tokens = asyncio.run(make_staff(database_url))
    with live_server(_env(service_env), tmp_path / "server.log") as server:
        reader = EventReader(server, tokens["reception-token"])
        reader.start()
        assert reader.connected.wait(5)
        # The first intake of a fresh server warms its code paths (no PDF workers start: the
        # prerender is off): send one first, so the timing below is the queue's, not the
        # start-up's.
        assert (
            httpx.post(f"{server.base_url}/api/v1/intakes", json=intake_body()).status_code == 201
        )
        [_warm_up] = reader.wait_for(1, seconds=15)
        body = intake_body(erection_over_4h=True, full_name="Ravi Menon", phone="98470 12345")
        key = {"Idempotency-Key": "announce-once"}
        started = time.monotonic()
        first = httpx.post(f"{server.base_url}/api/v1/intakes", json=body, headers=key)
        replay = httpx.post(f"{server.base_url}/api/v1/intakes", json=body, headers=key)
        assert first.status_code == replay.status_code == 201
        [_, event] = reader.wait_for(2)
        assert time.monotonic() - started < 2.0
        time.sleep(0.5)  # a replay stores nothing new, so it must announce nothing either
        assert reader.events == [_warm_up, event]
        reader.close()
    assert event["event"] == "intake.created"
    assert event["id"] == first.json()["id"]
    assert event["priority"] == "emergency"
    assert "Ravi" not in "\n".join(reader.raw)
    assert "98470" not in "\n".join(reader.raw)


@pytest.mark.postgresql
def test_two_servers_on_one_postgresql_database_share_the_live_queue(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    tokens = asyncio.run(make_staff(database_url))
    env = _env(service_env)
    with (
        live_server(env, tmp_path / "a.log") as server_a,
        live_server(env, tmp_path / "b.log") as server_b,
    ):
        reader = EventReader(server_b, tokens["reception-token"])
        reader.start()
        assert reader.connected.wait(5)
        created = httpx.post(f"{server_a.base_url}/api/v1/intakes", json=intake_body())
        assert created.status_code == 201
        [event] = reader.wait_for(1, seconds=3)
        reader.close()
    assert event["id"] == created.json()["id"]
    assert event["event"] == "intake.created"


@pytest.mark.postgresql
async def test_queue_notices_share_one_postgresql_connection_made_again_when_lost(
    database_url: URL,
) -> None:
    """Litestar's backend connected for every notice; ours keeps one, and replaces it."""
    dsn = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    backend = TolerantAsyncPgChannelsBackend(dsn=dsn)
    connects: list[object] = []
    connect = backend._connect

    async def counted() -> object:
        connection = await connect()
        connects.append(connection)
        return connection

    backend._connect = counted  # type: ignore[method-assign]
    await backend.on_startup()
    try:
        await backend.subscribe([CHANNEL])
        for number in range(20):
            await backend.publish(str(number).encode(), [CHANNEL])
        await backend._publisher.close()  # lost: the next notice connects again
        await backend.publish(b"after", [CHANNEL])
        received: list[bytes] = []
        async with asyncio.timeout(5):
            async for _channel, message in backend.stream_events():
                received.append(message)
                if len(received) == 21:
                    break
    finally:
        await backend.on_shutdown()
    assert received == [str(n).encode() for n in range(20)] + [b"after"]
    assert len(connects) == 3  # the listener, the publisher, and the publisher made again
