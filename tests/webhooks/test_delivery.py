"""The delivery worker against a real receiver on 127.0.0.1: signed, retried, dead-lettered."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import URL
from standardwebhooks import Webhook, WebhookVerificationError

from service.intake.status import change_status
from service.logs import configure_logging
from service.models import Intake, WebhookDelivery
from service.queue import Status
from service.staff import Principal, Role
from service.webhooks import disable_endpoint
from tests.waiting import eventually
from tests.webhooks.receiver import Receiver, closed_port_url
from tests.webhooks.support import database, worker

MINIMAL_KEYS = {"id", "reference", "priority", "status", "submitted_at"}


async def test_a_delivery_is_signed_so_that_the_receiver_can_verify_it(
    webhook_env: dict[str, str], database_url: URL, receiver: Receiver
) -> None:
    async with database() as db:
        endpoint = await db.endpoint(receiver.url, "intake.created")
        intake = await db.submit(full_name="Arun Kumar", erection_over_4h=True)
        [event] = await db.events()
        async with worker(db):
            await eventually(receiver.delivered_ids, what="delivered")
        [delivery] = await db.deliveries()

    [request] = receiver.requests()
    assert request.path == "/hooks"
    assert request.webhook_id == str(event.id)
    assert request.headers["content-type"] == "application/json"
    # An independent implementation of the specification checks the signature.
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "intake.created"
    assert set(payload["data"]) == MINIMAL_KEYS
    assert payload["data"]["id"] == str(intake.id)
    assert payload["data"]["reference"] == intake.reference
    assert payload["data"]["priority"] == "emergency"
    assert payload["data"]["status"] == "new"
    assert datetime.fromisoformat(payload["timestamp"]) == event.created_at
    text = request.body.decode()
    for private in ("Arun", "Kumar", "erection", "RF-"):
        assert private not in text
    assert delivery.status == "delivered"
    assert delivery.attempts == 1
    assert [a.status_code for a in delivery.attempt_log] == [200]

    # The signature covers the body and the id: a changed byte, or another secret, fails.
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"new", b"old"), request.headers)
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


async def test_a_receiver_answering_500_twice_gets_the_event_on_the_third_try(
    webhook_env: dict[str, str], database_url: URL, receiver: Receiver
) -> None:
    receiver.answer(500, 500)
    async with database() as db:
        endpoint = await db.endpoint(receiver.url, "intake.created")
        await db.submit()
        async with worker(db):
            await eventually(receiver.delivered_ids, what="delivered")
        [delivery] = await db.deliveries()

    requests = receiver.requests()
    assert [r.answered for r in requests] == [500, 500, 200]
    # The same webhook-id each time, so a receiver can spot a repeat; each attempt signed anew.
    assert len({r.webhook_id for r in requests}) == 1
    for request in requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)
    assert delivery.status == "delivered"
    assert delivery.attempts == 3
    assert delivery.completed_at is not None
    attempts = delivery.attempt_log
    assert [(a.status_code, a.error) for a in attempts] == [(500, None), (500, None), (200, None)]
    assert all(a.duration_ms >= 0 for a in attempts)
    # Backoff: at least half the base wait (0.1 s, equal jitter) before the first retry,
    # at least half of double that before the second.
    first, second, third = (a.attempted_at for a in attempts)
    assert (second - first).total_seconds() >= 0.05
    assert (third - second).total_seconds() >= 0.1


async def test_a_receiver_down_for_good_leaves_a_dead_delivery(
    webhook_env: dict[str, str], database_url: URL, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("INFO")  # as the service does: structlog through the standard library
    async with database() as db:
        endpoint = await db.endpoint(closed_port_url(), "intake.created")
        intake = await db.submit(full_name="Meera Nair")

        async def dead() -> list[WebhookDelivery]:
            return [d for d in await db.deliveries() if d.status == "dead"]

        async with worker(db):
            [delivery] = await eventually(dead, what="dead-lettered")

    assert delivery.attempts == 3  # WEBHOOK_MAX_ATTEMPTS
    assert [(a.status_code, a.error) for a in delivery.attempt_log] == [(None, "ConnectError")] * 3
    assert delivery.last_error == "ConnectError"
    assert delivery.completed_at is not None
    logged = [r.getMessage() for r in caplog.records if "webhook delivery" in r.getMessage()]
    assert any("dead" in line and endpoint.id in line for line in logged), logged
    for line in logged:
        assert intake.reference not in line
        assert "Meera" not in line


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    webhook_env: dict[str, str], database_url: URL, receiver: Receiver
) -> None:
    receiver.answer(302)
    async with database() as db:
        await db.endpoint(receiver.url, "intake.created")
        await db.submit()
        async with worker(db):
            await eventually(receiver.delivered_ids, what="delivered")
        [delivery] = await db.deliveries()

    assert [r.path for r in receiver.requests()] == ["/hooks", "/hooks"]
    assert [a.status_code for a in delivery.attempt_log] == [302, 200]


async def test_each_endpoint_gets_only_the_events_it_subscribed_to(
    webhook_env: dict[str, str], database_url: URL, receiver: Receiver
) -> None:
    async with database() as db:
        created = await db.endpoint(receiver.url + "/created", "intake.created")
        moved = await db.endpoint(receiver.url + "/moved", "intake.status_changed")
        intake = await db.submit()
        async with db.session() as session:
            stored = await session.get(Intake, intake.id)
            assert stored is not None
            reception = Principal("token", None, Role.RECEPTION, "front desk")
            await change_status(session, stored, Status.CALLED, reception, datetime.now(UTC))
            await session.commit()
        async with worker(db):
            await eventually(lambda: len(receiver.delivered_ids()) == 2, what="both delivered")

    by_path = {r.path: r for r in receiver.requests()}
    assert set(by_path) == {"/hooks/created", "/hooks/moved"}
    first = Webhook(created.secret).verify(
        by_path["/hooks/created"].body, by_path["/hooks/created"].headers
    )
    second = Webhook(moved.secret).verify(
        by_path["/hooks/moved"].body, by_path["/hooks/moved"].headers
    )
    assert first["type"] == "intake.created"
    assert second["type"] == "intake.status_changed"
    assert second["data"]["status"] == "called"
    assert second["data"]["previous_status"] == "new"
    assert set(second["data"]) == MINIMAL_KEYS | {"previous_status"}


async def test_an_endpoint_hears_nothing_from_before_it_was_registered(
    webhook_env: dict[str, str], database_url: URL, receiver: Receiver
) -> None:
    async with database() as db:
        await db.submit()
        await db.endpoint(receiver.url, "intake.created")
        later = await db.submit()
        async with worker(db):
            await eventually(receiver.delivered_ids, what="delivered")
        # Read once the worker has stopped, as the tests above do: it records a delivery after
        # the receiver has answered, so a read in between may find it still pending.
        [delivery] = await db.deliveries()

    [request] = receiver.requests()
    assert json.loads(request.body)["data"]["id"] == str(later.id)
    assert delivery.status == "delivered"


async def test_a_disabled_endpoint_gets_no_further_attempt(
    webhook_env: dict[str, str],
    database_url: URL,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_BACKOFF_SECONDS", "2")
    receiver.answer(503)
    async with database() as db:
        endpoint = await db.endpoint(receiver.url, "intake.created")
        await db.submit()
        async with worker(db):

            async def tried_once() -> bool:
                return any(d.attempts == 1 for d in await db.deliveries())

            await eventually(tried_once, what="first attempt recorded")
            async with db.session() as session:
                await disable_endpoint(session, endpoint.id)
                await session.commit()

            async def dead() -> list[WebhookDelivery]:
                return [d for d in await db.deliveries() if d.status == "dead"]

            [delivery] = await eventually(dead, what="dead-lettered")

    assert [r.answered for r in receiver.requests()] == [503]
    assert delivery.attempts == 1
    assert delivery.last_error == "endpoint disabled"
