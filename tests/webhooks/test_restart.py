"""No event is lost across a crash: the real server, SIGKILLed with deliveries pending."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
from sqlalchemy.engine import URL
from standardwebhooks import Webhook

from service.models import WebhookDelivery
from tests.patients import intake_body
from tests.server import LiveServer, start_server
from tests.webhooks.receiver import HANG, Receiver
from tests.webhooks.support import database

INTAKES = 4


async def _endpoint(url: str) -> str:
    async with database() as db:
        return (await db.endpoint(url, "intake.created")).secret


async def _deliveries() -> list[WebhookDelivery]:
    async with database() as db:
        return await db.deliveries()


def _kill(server: LiveServer) -> None:
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)


def _stop(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=15)


def test_deliveries_pending_at_a_sigkill_are_made_after_the_restart(
    webhook_env: dict[str, str], database_url: URL, receiver: Receiver, tmp_path: Path
) -> None:
    webhook_env = {**webhook_env, "WEBHOOK_TIMEOUT_SECONDS": "1"}  # a claim lasts 6 s
    secret = asyncio.run(_endpoint(receiver.url))
    log = tmp_path / "server.log"

    # 1. Intakes accepted while no worker runs, then the process dies at once: the events
    #    are only in the outbox.
    first = start_server({**webhook_env, "WEBHOOK_WORKER": "false"}, log)
    try:
        with httpx.Client(base_url=first.base_url) as patients:
            for _ in range(INTAKES):
                response = patients.post("/api/v1/intakes", json=intake_body())
                assert response.status_code == 201, response.text
    finally:
        _kill(first)

    # 2. A worker starts sending, and dies while the receiver holds the requests open.
    receiver.answer(*[HANG] * INTAKES)
    second = start_server(webhook_env, log)
    try:
        receiver.wait_for(lambda r: len(r.requests()) >= 1, timeout=20)
    finally:
        _kill(second)
    assert receiver.delivered_ids() == set()

    # 3. After the restart every event arrives, signed, with its own webhook-id throughout.
    third = start_server(webhook_env, log)
    try:
        receiver.wait_for(lambda r: len(r.delivered_ids()) == INTAKES, timeout=30)
    finally:
        _stop(third)
    assert "Application shutdown complete" in third.log()  # the worker stopped cleanly
    requests = receiver.requests()
    hung = {r.webhook_id for r in requests if r.answered == HANG}
    assert hung
    assert hung <= receiver.delivered_ids()  # sent again, under the same id
    for request in requests:
        Webhook(secret).verify(request.body, request.headers)
    deliveries = asyncio.run(_deliveries())
    assert [d.status for d in deliveries] == ["delivered"] * INTAKES
