"""Each intake action tells the live queue once, after its commit, from one place: a rolled-back
action tells nothing, and a re-triage reaches open reception screens, the command line's too."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.app import create_app
from service.clinic import Clinic
from service.intake import IntakeService
from service.intake.outbox import CHANNEL
from service.intake.status import change_status
from service.queue import Status, TolerantAsyncPgChannelsBackend
from service.settings import get_settings
from service.staff import Principal, Role
from tests.commands import cli_process
from tests.patients import intake_body
from tests.rule_files import rule_file, urinary_made_urgent
from tests.server import live_server
from tests.staff.support import Client, as_caller, callers, make_staff
from tests.staff.test_live_queue import EventReader
from tests.waiting import eventually
from tests.web.test_intake_form import form_fields, open_form, send

DOCTOR = Principal("token", None, Role.DOCTOR, "doctor")
# Long enough for a notice sent through PostgreSQL to arrive, were a second one sent.
QUIET = 0.5


class Notices:
    """What this process's live queue channel carried, as a reception screen hears it."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []

    async def hear(self, message: bytes) -> None:
        self.received.append(json.loads(message))

    async def after(self, count: int, seconds: float = 5.0) -> list[dict[str, object]]:
        """The notices once `count` came (then a quiet moment, for any extra one to show).

        Polled: on SQLite a notice is handed over from the test client's event loop, which
        does not wake this one, so waiting for it to say so took the whole `seconds`."""
        with contextlib.suppress(AssertionError):  # fewer came: the caller's assertion says so
            await eventually(lambda: len(self.received) >= count, within=seconds)
        await asyncio.sleep(QUIET)
        return self.received


@asynccontextmanager
async def listening(app: Litestar, database_url: URL) -> AsyncIterator[Notices]:
    """The app's own channel on SQLite (one process); on PostgreSQL a LISTEN of our own, as
    every worker of every server hears the notices (the app's runs on the test client's loop)."""
    notices = Notices()
    if database_url.get_backend_name() != "postgresql":
        channels = app.plugins.get(ChannelsPlugin)
        async with (
            channels.start_subscription([CHANNEL]) as subscriber,
            subscriber.run_in_background(notices.hear),
        ):
            yield notices
        return
    dsn = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    backend = TolerantAsyncPgChannelsBackend(dsn=dsn)
    await backend.on_startup()
    await backend.subscribe([CHANNEL])

    async def hear_all() -> None:
        async for _channel, message in backend.stream_events():
            await notices.hear(message)

    hearing = asyncio.create_task(hear_all())
    try:
        yield notices
    finally:
        hearing.cancel()
        await backend.on_shutdown()


async def test_each_action_tells_the_live_queue_once(
    app: Litestar, client: Client, database_url: URL
) -> None:
    staff = await callers(client, database_url)
    async with listening(app, database_url) as notices:
        created = await client.post("/api/v1/intakes", json=intake_body(erection_over_4h=True))
        assert created.status_code == 201, created.text
        intake_id = created.json()["id"]
        assert [n["event"] for n in await notices.after(1)] == ["intake.created"]

        hidden = await open_form(client)
        assert (await send(client, hidden, form_fields())).status_code == 303
        assert [n["event"] for n in await notices.after(2)][1:] == ["intake.created"]

        moved = await as_caller(
            client,
            staff["reception-token"],
            "POST",
            f"/api/v1/intakes/{intake_id}/status",
            json={"status": "called"},
        )
        assert moved.status_code == 200, moved.text
        assert [n["event"] for n in await notices.after(3)][2:] == ["intake.status_changed"]

        overridden = await as_caller(
            client,
            staff["doctor-token"],
            "POST",
            f"/api/v1/intakes/{intake_id}/priority",
            json={"priority": "urgent", "reason": "seen at the desk"},
        )
        assert overridden.status_code == 200, overridden.text
        assert [n["event"] for n in await notices.after(4)][3:] == ["intake.priority_changed"]

        form = await as_caller(
            client,
            staff["doctor"],
            "POST",
            f"/staff/intakes/{intake_id}/priority",
            data={"priority": "urgent", "reason": "the same level, a new reason"},
        )
        assert form.status_code == 303, form.text
        assert [n["event"] for n in await notices.after(5)][4:] == ["intake.priority_changed"]

        acknowledged = await as_caller(
            client, staff["reception"], "POST", f"/staff/intakes/{intake_id}/acknowledge", data={}
        )
        assert acknowledged.status_code == 303, acknowledged.text
        heard = await notices.after(6)
        assert [n["event"] for n in heard][5:] == ["intake.status_changed"]

        moved_on_page = await as_caller(
            client,
            staff["reception"],
            "POST",
            f"/staff/intakes/{intake_id}/status",
            data={"status": "arrived"},
        )
        assert moved_on_page.status_code == 303, moved_on_page.text
        heard = await notices.after(7)
        assert [n["event"] for n in heard][6:] == ["intake.status_changed"]
    assert heard[-1] == {
        "event": "intake.status_changed",
        "id": intake_id,
        "priority": "urgent",
        "status": "arrived",
        "submitted_at": datetime.fromisoformat(created.json()["submitted_at"]).isoformat(),
    }


async def test_a_rolled_back_action_tells_the_live_queue_nothing(
    app: Litestar,
    client: Client,
    database_url: URL,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await client.post("/api/v1/intakes", json=intake_body())
    assert created.status_code == 201, created.text
    async with listening(app, database_url) as notices:
        async with sessions() as session:
            intake = await IntakeService(session, Clinic.load(get_settings())).load(
                UUID(created.json()["id"])
            )
            await change_status(session, intake, Status.CALLED, DOCTOR, datetime.now(UTC))
            await session.rollback()
            await session.commit()  # nothing left to commit: nothing to tell
        assert await notices.after(1, seconds=QUIET) == []
        rejected = await client.post("/api/v1/intakes", json=intake_body(consent=False))
        assert rejected.status_code == 422
        assert await notices.after(1, seconds=QUIET) == []


async def test_a_retriage_in_this_process_reaches_the_live_queue(
    service_env: dict[str, str],
    database_url: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The app's lifespan and the re-triage on one event loop, as in a server process (the test
    client runs the lifespan on a loop of its own, which a publish from this one never wakes)."""
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client,
    ):
        created = await client.post("/api/v1/intakes", json=intake_body(urination_pain=True))
        assert created.status_code == 201, created.text
        monkeypatch.setenv("RULE_SET_FILE", str(rule_file(tmp_path, urinary_made_urgent())))
        get_settings.cache_clear()
        clinic = Clinic.load(get_settings())
        async with listening(app, database_url) as notices:
            async with sessions() as session:
                report = await IntakeService(session, clinic).retriage(datetime.now(UTC))
            assert report.level_changed == 1
            [notice] = await notices.after(1)
    assert notice["event"] == "intake.priority_changed"
    assert notice["id"] == created.json()["id"]
    assert notice["priority"] == "urgent"


@pytest.mark.postgresql
def test_the_command_line_s_retriage_reaches_an_open_stream(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    """On PostgreSQL the re-triage's own transaction NOTIFYs: every server hears it."""
    tokens = asyncio.run(make_staff(database_url))
    with live_server({**service_env, "LIVE_STREAM_SECONDS": "30"}, tmp_path / "s.log") as server:
        reader = EventReader(server, tokens["reception-token"])
        reader.start()
        assert reader.connected.wait(5)
        created = httpx.post(
            f"{server.base_url}/api/v1/intakes", json=intake_body(urination_pain=True)
        )
        assert created.status_code == 201, created.text
        [_created] = reader.wait_for(1, seconds=5)
        rules = str(rule_file(tmp_path, urinary_made_urgent()))
        retriage = cli_process({**service_env, "RULE_SET_FILE": rules}, "retriage")
        assert retriage.returncode == 0, retriage.stderr
        assert "1 changed level" in retriage.stdout
        [_, notice] = reader.wait_for(2, seconds=5)
        reader.close()
    assert notice == {
        "event": "intake.priority_changed",
        "id": created.json()["id"],
        "priority": "urgent",
        "status": "new",
        "submitted_at": datetime.fromisoformat(created.json()["submitted_at"]).isoformat(),
    }
