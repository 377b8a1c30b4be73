"""An open live-queue stream closes when its session ends: on real server processes, since
test clients hang on endless server-sent event streams (litestar #3654)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.engine import URL

from service.models import StaffSession
from tests.commands import cli
from tests.databases import in_database
from tests.server import LiveServer, live_server
from tests.staff.support import csrf_token, make_staff, sign_in
from tests.staff.test_live_queue import EventReader
from tests.staff.test_sessions import last_seen, time_passes

SIGNED_OUT = "event: signed-out"
KEEPALIVE = 2


def _env(service_env: dict[str, str]) -> dict[str, str]:
    # Streams that would outlive every wait below, were they not closed; a keepalive (and so a
    # check of the session) every KEEPALIVE seconds instead of 15.
    return {**service_env, "LIVE_STREAM_SECONDS": "40", "LIVE_KEEPALIVE_SECONDS": str(KEEPALIVE)}


def signed_in(server: LiveServer, email: str) -> httpx.Cookies:
    async def run() -> httpx.Cookies:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            assert (await sign_in(client, email)).status_code == 303
            return httpx.Cookies(client.cookies)

    return asyncio.run(run())


def sign_out(server: LiveServer, cookies: httpx.Cookies) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(base_url=server.base_url, cookies=cookies) as client:
            token = await csrf_token(client)
            done = await client.post("/staff/logout", data={"_csrf_token": token})
            assert done.status_code == 303, done.text

    asyncio.run(run())


def streaming(server: LiveServer, cookies: httpx.Cookies) -> EventReader:
    reader = EventReader(server, cookies=cookies)
    reader.start()
    assert reader.connected.wait(10)
    return reader


def closes_signed_out(reader: EventReader, seconds: float) -> float:
    """How long the stream took to say `signed-out` and end; fails after `seconds`."""
    started = time.monotonic()
    assert reader.finished.wait(seconds), "the stream is still open"
    assert SIGNED_OUT in reader.raw, reader.raw
    return time.monotonic() - started


def test_signing_out_closes_the_open_stream_at_once(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    asyncio.run(make_staff(database_url))
    with live_server(_env(service_env), tmp_path / "server.log") as server:
        cookies = signed_in(server, "reception@clinic.test")
        other_browser = signed_in(server, "reception@clinic.test")
        elsewhere = streaming(server, other_browser)
        reader = streaming(server, cookies)
        sign_out(server, cookies)
        assert closes_signed_out(reader, 5) < 3
        assert not elsewhere.finished.is_set()  # the same person's other session lives on
        sign_out(server, other_browser)  # until it signs out too (and the server can stop)
        assert closes_signed_out(elsewhere, 5) < 3


def test_a_session_found_idle_closes_its_stream_at_the_next_keepalive(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    """No notice: the end is found by the stream's own check of its session (the backstop)."""
    asyncio.run(make_staff(database_url))
    with live_server(_env(service_env), tmp_path / "server.log") as server:
        reader = streaming(server, signed_in(server, "doctor@clinic.test"))
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        asyncio.run(in_database(database_url, update(StaffSession).values(last_seen_at=long_ago)))
        closes_signed_out(reader, KEEPALIVE + 5)  # at the next keepalive


def test_a_session_only_an_open_queue_uses_ends_at_the_idle_limit(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    """The stream's opening and its keepalive checks are not use: a screen left alone with
    the queue open is signed out when the idle limit passes, and cannot reconnect."""
    asyncio.run(make_staff(database_url))
    with live_server(_env(service_env), tmp_path / "server.log") as server:
        cookies = signed_in(server, "reception@clinic.test")
        asyncio.run(time_passes(database_url, timedelta(minutes=29)))
        nearly_idle = asyncio.run(last_seen(database_url))
        reader = streaming(server, cookies)
        assert asyncio.run(last_seen(database_url)) == nearly_idle
        asyncio.run(time_passes(database_url, timedelta(minutes=2)))
        closes_signed_out(reader, KEEPALIVE + 5)  # at the next keepalive
        again = httpx.get(f"{server.base_url}/staff/queue/events", cookies=cookies)
        assert again.status_code == 303
        assert again.headers["location"].startswith("/staff/login")


@pytest.mark.postgresql
def test_an_end_on_one_worker_or_the_command_line_closes_streams_on_another(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    asyncio.run(make_staff(database_url))
    env = _env(service_env)
    with (
        live_server(env, tmp_path / "a.log") as server_a,
        live_server(env, tmp_path / "b.log") as server_b,
    ):
        cookies = signed_in(server_a, "admin@clinic.test")
        reader = streaming(server_b, cookies)
        sign_out(server_a, cookies)
        assert closes_signed_out(reader, 5) < 3
        reader = streaming(server_b, signed_in(server_a, "admin@clinic.test"))
        done = cli(service_env, "users", "sign-out-everywhere", "admin@clinic.test")
        assert done.returncode == 0, done.stderr
        assert closes_signed_out(reader, 5) < 3
