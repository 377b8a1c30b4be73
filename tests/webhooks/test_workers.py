"""Workers share the outbox, and the service's own worker wakes when an event is committed."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from service.app import create_app
from service.settings import get_settings
from service.webhooks import DeliveryWorker, WorkerSettings
from tests.patients import intake_body
from tests.waiting import eventually
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import Database, database

EVENTS = 120


class CountingTransport(httpx.AsyncHTTPTransport):
    """The real transport, counting what one worker sent."""

    sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await super().handle_async_request(request)


async def test_two_workers_at_once_deliver_each_event_exactly_once(
    webhook_env: dict[str, str], database_url: URL, receiver: Receiver
) -> None:
    """Each worker has its own engine and connections, as two server processes would.

    On PostgreSQL the claims use FOR UPDATE SKIP LOCKED; on SQLite the same single statement
    is atomic under the one-writer lock. Either way no delivery is claimed twice.
    """
    async with database() as db:
        await db.endpoint(receiver.url, "intake.created")
        for _ in range(EVENTS):
            await db.submit()
        other = Database()
        settings = WorkerSettings.of(get_settings())
        one, two = CountingTransport(), CountingTransport()
        try:
            async with (
                DeliveryWorker(db.session, settings, transport=one),
                DeliveryWorker(other.session, settings, transport=two),
            ):
                await eventually(
                    lambda: len(receiver.delivered_ids()) == EVENTS, what="all delivered"
                )
        finally:
            await other.close()
        deliveries = await db.deliveries()

    sent = Counter(request.webhook_id for request in receiver.requests())
    assert len(sent) == EVENTS
    assert set(sent.values()) == {1}, [key for key, count in sent.items() if count > 1]
    assert len(deliveries) == EVENTS  # fanned out once per event, though both workers tried
    assert {(d.status, d.attempts) for d in deliveries} == {("delivered", 1)}
    assert one.sent > 0
    assert two.sent > 0  # both took a share
    assert one.sent + two.sent == EVENTS


async def test_the_service_worker_wakes_on_commit_without_waiting_for_its_poll(
    webhook_env: dict[str, str],
    database_url: URL,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_POLL_SECONDS", "60")
    get_settings.cache_clear()
    async with database() as db:
        await db.endpoint(receiver.url, "intake.created")
    async with AsyncTestClient(app=create_app()) as client:
        started = time.monotonic()
        response = await client.post("/api/v1/intakes", json=intake_body())
        assert response.status_code == 201
        await eventually(receiver.delivered_ids, within=5, what="delivered")
        assert time.monotonic() - started < 5
    [request] = receiver.requests()
    assert request.headers["webhook-id"]
    assert '"id":"' + response.json()["id"] in request.body.decode()


async def test_no_worker_runs_when_the_setting_turns_it_off(
    webhook_env: dict[str, str],
    database_url: URL,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_WORKER", "false")
    get_settings.cache_clear()
    async with database() as db:
        await db.endpoint(receiver.url, "intake.created")
        async with AsyncTestClient(app=create_app()) as client:
            response = await client.post("/api/v1/intakes", json=intake_body())
            assert response.status_code == 201
            await asyncio.sleep(1.0)  # twice the poll interval a worker would use
        [event] = await db.events()
        assert event.fanned_out_at is None
    assert receiver.requests() == []
