"""Admins manage webhooks: the command line (tests.commands) and the admin page; dead letters
visible."""

from __future__ import annotations

import asyncio
import base64
import re

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.app import create_app
from service.cli import main
from service.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from service.settings import get_settings
from tests.commands import cli
from tests.staff.support import as_caller, callers
from tests.test_cli import assert_one_clear_line, rows
from tests.waiting import eventually
from tests.webhooks.receiver import closed_port_url
from tests.webhooks.support import database, worker

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def add(env: dict[str, str], url: str, *events: str) -> tuple[str, str]:
    """`webhooks add`; returns the endpoint id and the secret (the last line)."""
    args = [arg for event in events for arg in ("--event", event)]
    result = cli(env, "webhooks", "add", url, *args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    found = re.search(UUID_PATTERN, lines[0])
    assert found, lines
    return found.group(0), lines[-1]


def test_add_prints_the_id_and_the_secret_once_then_list_and_disable(
    webhook_env: dict[str, str],
) -> None:
    endpoint_id, secret = add(
        webhook_env, "https://ehr.clinic.test/hooks", "intake.created", "intake.status_changed"
    )
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32

    listed = cli(webhook_env, "webhooks", "list")
    assert listed.returncode == 0
    line = next(line for line in listed.stdout.splitlines() if endpoint_id in line)
    assert "active" in line
    assert "https://ehr.clinic.test/hooks" in line
    assert "intake.created,intake.status_changed" in line
    assert secret not in listed.stdout

    disabled = cli(webhook_env, "webhooks", "disable", endpoint_id)
    assert disabled.returncode == 0, disabled.stderr
    assert endpoint_id in disabled.stdout
    listed = cli(webhook_env, "webhooks", "list")
    assert f"{endpoint_id}  disabled" in listed.stdout

    [stored] = rows(webhook_env, WebhookEndpoint)
    assert stored.secret == secret
    assert not stored.is_active
    actions = [event.action for event in rows(webhook_env, AuditEvent)]
    assert actions == ["webhook_endpoint.created", "webhook_endpoint.disabled"]


def test_bad_input_gets_one_clear_line_and_stores_nothing(webhook_env: dict[str, str]) -> None:
    # One real process, to see exactly what a person at the terminal sees...
    assert_one_clear_line(
        cli(webhook_env, "webhooks", "add", "ftp://ehr.clinic.test/x", "--event", "intake.created"),
        "not an http(s) URL",
    )
    # ...and the other cases in this process (quicker; the same code and exit status).
    cases = [
        (("add", "ehr.clinic.test/hooks", "--event", "intake.created"), "not an http(s) URL"),
        (
            ("add", "https://ehr.clinic.test/hooks", "--event", "intake.deleted"),
            "unknown event type",
        ),
        (("disable", "not-an-id"), "unknown webhook endpoint"),
        (("disable", "0b7e3bde-6f1e-4d8e-9a55-3c1f2d0e9b11"), "unknown webhook endpoint"),
        (("retry", "12345"), "unknown webhook delivery"),
        (("retry", "twelve"), "unknown webhook delivery"),
    ]
    runner = CliRunner()
    for args, expected in cases:
        result = runner.invoke(main, ["webhooks", *args])
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert expected in result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert rows(webhook_env, WebhookEndpoint) == []
    nothing = runner.invoke(main, ["webhooks", "deliveries"])
    assert nothing.exit_code == 0
    assert "No webhook deliveries." in nothing.output


async def test_a_dead_delivery_is_shown_to_admins_and_can_be_requeued(
    webhook_env: dict[str, str], database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database() as db:
        endpoint = await db.endpoint(closed_port_url(), "intake.created")
        await db.submit()

        async def dead() -> list[WebhookDelivery]:
            return [d for d in await db.deliveries() if d.status == "dead"]

        async with worker(db):
            [delivery] = await eventually(dead, what="dead-lettered")

    shown = await asyncio.to_thread(cli, webhook_env, "webhooks", "deliveries", "--status", "dead")
    assert shown.returncode == 0, shown.stderr
    first, *attempts = shown.stdout.strip().splitlines()
    assert first.startswith(f"{delivery.id}  dead  intake.created")
    assert endpoint.id in first
    assert "attempts 3" in first
    assert len(attempts) == 3
    assert all("ConnectError" in line for line in attempts)
    pending = await asyncio.to_thread(
        cli, webhook_env, "webhooks", "deliveries", "--status", "pending"
    )
    assert pending.stdout.strip() == "No webhook deliveries."

    # The app as admins use it; its own worker is off so the dead delivery stays as it is.
    monkeypatch.setenv("WEBHOOK_WORKER", "false")
    get_settings.cache_clear()
    app = create_app()
    async with AsyncTestClient(app=app) as client:
        who = await callers(client, database_url)
        page = await as_caller(client, who["admin"], "GET", "/staff/webhooks?status=dead")
        assert page.status_code == 200
        assert endpoint.id in page.text
        assert "<strong>dead</strong>" in page.text
        assert page.text.count("ConnectError") == 3
        assert "whsec_" not in page.text  # the secret is never shown again
        for name in ("reception", "doctor", "doctor-token"):
            refused = await as_caller(client, who[name], "GET", "/staff/webhooks")
            assert refused.status_code == 403
        anonymous = await as_caller(client, who["anonymous"], "GET", "/staff/webhooks")
        assert anonymous.status_code == 303

    async with database() as db, db.session() as session:
        viewed = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "webhooks.viewed"))
        )
    assert len(viewed) == 1
    assert viewed[0].actor_kind == "staff"

    retried = await asyncio.to_thread(cli, webhook_env, "webhooks", "retry", str(delivery.id))
    assert retried.returncode == 0, retried.stderr
    again = await asyncio.to_thread(cli, webhook_env, "webhooks", "retry", str(delivery.id))
    assert_one_clear_line(again, "is pending, not dead")
    async with database() as db:
        [requeued] = await db.deliveries()
    assert requeued.status == "pending"
    assert requeued.attempts == 0
    assert len(requeued.attempt_log) == 3  # the history stays


async def test_every_dead_delivery_can_be_requeued_at_once_after_an_outage(
    webhook_env: dict[str, str],
) -> None:
    async with database() as db:
        endpoint = await db.endpoint(closed_port_url(), "intake.created")
        other = await db.endpoint(closed_port_url(), "intake.created")
        for _ in range(3):
            await db.submit()

        async def dead() -> list[WebhookDelivery]:
            found = [d for d in await db.deliveries() if d.status == "dead"]
            return found if len(found) == 6 else []

        async with worker(db):
            await eventually(dead, what="six dead-lettered")

    one = await asyncio.to_thread(
        cli, webhook_env, "webhooks", "retry-dead", "--endpoint", endpoint.id
    )
    assert one.returncode == 0, one.stderr
    assert one.stdout.strip() == "Re-queued 3 dead webhook deliveries."
    rest = await asyncio.to_thread(cli, webhook_env, "webhooks", "retry-dead")
    assert rest.stdout.strip() == "Re-queued 3 dead webhook deliveries."
    async with database() as db:
        deliveries = await db.deliveries()
    assert {d.status for d in deliveries} == {"pending"}
    assert {str(d.endpoint_id) for d in deliveries} == {endpoint.id, other.id}
    assert all(len(d.attempt_log) == 3 for d in deliveries)
    unknown = await asyncio.to_thread(cli, webhook_env, "webhooks", "retry-dead", "--endpoint", "x")
    assert_one_clear_line(unknown, "unknown webhook endpoint")
