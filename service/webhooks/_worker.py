"""The delivery worker: fans outbox events out to endpoints, sends them signed, retries, gives up.

Each round has three short transactions and no transaction open while a request is in flight:
1. fan out: mark a batch of new events as fanned out and write one pending delivery per
   subscribed endpoint;
2. claim: move a batch of due deliveries' `next_attempt_at` to the end of a lease, so no other
   worker takes them while this one sends;
3. after each send, record the attempt and the delivery's new state.

Both claims are one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`.
On PostgreSQL, concurrent workers skip the rows another one holds, so they share the outbox
without waiting or sending twice. SQLite renders no `FOR UPDATE` and needs none: it has one
writer at a time, so the same statement is atomic there. The service runs one worker per process,
which on the embedded default means one (the usual single server process).

A process that dies mid-send leaves the delivery claimed until its lease ends; then a worker sends
it again with the same `webhook-id`. Delivery is at least once: a receiver may see an event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self
from uuid import UUID

import httpx
import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from service.codes import DeliveryStatus
from service.intake.outbox import on_commit
from service.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from service.settings import Settings
from service.webhooks._events import webhook_body
from service.webhooks._retries import RetryPolicy, succeeded
from service.webhooks._signing import signed_headers

log = structlog.get_logger(__name__)

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]

FAN_OUT_BATCH = 500
# Sent at once by one worker; a small clinic system should not see more at a time.
CLAIM_BATCH = 20
# After a wake-up, wait this long so a burst of commits is handled in one round: under load the
# intake writer commits dozens of times a second, and a round for each cost more CPU than
# storing the intakes. Receivers hear of an event this much later, at most.
SETTLE_SECONDS = 0.25
# Never poll faster than this, even when a retry is due sooner.
MIN_WAIT_SECONDS = 0.05
# A claim outlasts the request's timeout by this much, to record the outcome.
LEASE_MARGIN_SECONDS = 5.0
USER_AGENT = "clinic-intake-webhooks/1"
_PENDING = DeliveryStatus.PENDING.value


@dataclass(frozen=True)
class WorkerSettings:
    policy: RetryPolicy
    poll_seconds: float
    timeout_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> WorkerSettings:
        return cls(
            policy=RetryPolicy(settings.webhook_max_attempts, settings.webhook_backoff_seconds),
            poll_seconds=settings.webhook_poll_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout_seconds + LEASE_MARGIN_SECONDS)


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    endpoint_id: UUID
    url: str
    secret: str
    message_id: str
    body: bytes


@dataclass(frozen=True)
class _Outcome:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and succeeded(self.status_code)


class DeliveryWorker:
    """Runs in the service's event loop from start-up to shutdown (`async with`)."""

    def __init__(
        self,
        sessions: SessionFactory,
        settings: WorkerSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._transport = transport
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._stop_listening: Callable[[], None] = lambda: None

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(
            transport=self._transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self._settings.timeout_seconds),
            headers={"user-agent": USER_AGENT},
        )
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self._stop_listening = on_commit(wake)
        self._task = asyncio.create_task(self._run(), name="webhook-delivery-worker")
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stop_listening()
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            # Let a round in flight finish (sends are bounded by the timeout), then stop it.
            done, _ = await asyncio.wait({self._task}, timeout=self._settings.timeout_seconds + 1)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self.run_once()
                wait = 0.0 if more else await self._seconds_to_next_due()
            except (SQLAlchemyError, OSError, TimeoutError) as error:
                log.warning("webhook worker: database unavailable", error=type(error).__name__)
                wait = self._settings.poll_seconds
            except Exception:
                # One bad round must not end deliveries for good; the next poll tries again.
                log.exception("webhook worker round failed")
                wait = self._settings.poll_seconds
            if wait > 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                if self._wake.is_set() and not self._stopping:
                    await asyncio.sleep(SETTLE_SECONDS)

    async def run_once(self) -> bool:
        """One round: fan out, claim, send, record. True when a batch was full (more waits)."""
        now = datetime.now(UTC)
        fanned_out = await self._fan_out(now)
        if self._stopping:
            return False
        claimed = await self._claim(datetime.now(UTC))  # the lease runs from now, not before
        await asyncio.gather(*(self._deliver(item) for item in claimed))
        return fanned_out >= FAN_OUT_BATCH or len(claimed) >= CLAIM_BATCH

    async def _fan_out(self, now: datetime) -> int:
        async with self._sessions() as session:
            # A read first: an idle worker takes no write lock (SQLite has only one).
            waiting = await session.scalar(
                select(OutboxEvent.id).where(OutboxEvent.fanned_out_at.is_(None)).limit(1)
            )
            if waiting is None:
                return 0
            endpoints = (
                await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.is_active))
            ).all()
            if not endpoints:
                # Nobody to tell. Left as they are: an endpoint registered later skips them
                # anyway (it hears of events from its registration on).
                return 0
            batch = (
                select(OutboxEvent.id)
                .where(OutboxEvent.fanned_out_at.is_(None))
                .order_by(OutboxEvent.created_at)
                .limit(FAN_OUT_BATCH)
                .with_for_update(skip_locked=True)
            )
            events = (
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_(batch))
                    .values(fanned_out_at=now)
                    .returning(OutboxEvent.id, OutboxEvent.type, OutboxEvent.created_at)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            for event_id, event_type, created_at in events:
                for endpoint in endpoints:
                    # An endpoint hears of the events from its registration on.
                    if event_type in endpoint.event_types and endpoint.created_at <= created_at:
                        session.add(
                            WebhookDelivery(
                                event_id=event_id,
                                endpoint_id=endpoint.id,
                                status=_PENDING,
                                attempts=0,
                                next_attempt_at=now,
                                created_at=now,
                            )
                        )
            await session.commit()
            return len(events)

    async def _claim(self, now: datetime) -> list[_Claimed]:
        is_due = (WebhookDelivery.status == _PENDING, WebhookDelivery.next_attempt_at <= now)
        due = (
            select(WebhookDelivery.id)
            .where(*is_due)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(CLAIM_BATCH)
            .with_for_update(skip_locked=True)
        )
        async with self._sessions() as session:
            # A read first, as in the fan-out: nothing due takes no write lock.
            if await session.scalar(select(WebhookDelivery.id).where(*is_due).limit(1)) is None:
                return []
            ids = (
                await session.scalars(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_(due))
                    .values(next_attempt_at=now + self._settings.lease)
                    .returning(WebhookDelivery.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            if not ids:
                await session.commit()
                return []
            rows = (
                await session.execute(
                    select(WebhookDelivery, WebhookEndpoint, OutboxEvent)
                    .join(WebhookDelivery.endpoint)
                    .join(WebhookDelivery.event)
                    .where(WebhookDelivery.id.in_(ids))
                )
            ).all()
            claimed = []
            for delivery, endpoint, event in rows:
                if not endpoint.is_active:
                    # Disabled after the fan-out: nothing is sent; an admin sees it as dead.
                    delivery.status = DeliveryStatus.DEAD.value
                    delivery.last_error = "endpoint disabled"
                    delivery.completed_at = now
                    continue
                claimed.append(
                    _Claimed(
                        delivery_id=delivery.id,
                        endpoint_id=endpoint.id,
                        url=endpoint.url,
                        secret=endpoint.secret,
                        message_id=str(event.id),
                        body=webhook_body(event.type, event.created_at, event.payload),
                    )
                )
            await session.commit()
            return claimed

    async def _deliver(self, item: _Claimed) -> None:
        outcome = await self._send(item)
        try:
            await self._record(item, outcome)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            # The claim runs out and the delivery is sent again: a duplicate, never a loss.
            log.warning(
                "webhook attempt not recorded",
                delivery_id=item.delivery_id,
                error=type(error).__name__,
            )

    async def _send(self, item: _Claimed) -> _Outcome:
        assert self._client is not None  # noqa: S101 - set in __aenter__
        timestamp = int(time.time())
        headers = {
            **signed_headers(item.secret, item.message_id, timestamp, item.body),
            "content-type": "application/json",
        }
        attempted_at = datetime.now(UTC)
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            async with (
                asyncio.timeout(self._settings.timeout_seconds),
                self._client.stream("POST", item.url, content=item.body, headers=headers) as sent,
            ):
                # The answer's body is not read: only its status counts.
                status_code = sent.status_code
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError, OSError) as failure:
            error = type(failure).__name__
        duration_ms = round((time.monotonic() - started) * 1000)
        return _Outcome(attempted_at, status_code, error, duration_ms)

    async def _record(self, item: _Claimed, outcome: _Outcome) -> None:
        now = datetime.now(UTC)
        async with self._sessions() as session:
            delivery = await session.get(WebhookDelivery, item.delivery_id)
            if delivery is None or delivery.status != _PENDING:
                return  # finished meanwhile by a worker that took over an expired claim
            delivery.attempts += 1
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    attempted_at=outcome.attempted_at,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                )
            )
            if outcome.ok:
                delivery.status = DeliveryStatus.DELIVERED.value
                delivery.completed_at = now
            else:
                delay = self._settings.policy.delay_after(delivery.attempts)
                context = {
                    "delivery_id": delivery.id,
                    "endpoint_id": str(item.endpoint_id),
                    "attempt": delivery.attempts,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                }
                if delay is None:
                    delivery.status = DeliveryStatus.DEAD.value
                    delivery.completed_at = now
                    log.warning("webhook delivery dead", **context)
                else:
                    delivery.next_attempt_at = now + timedelta(seconds=delay)
                    log.info("webhook delivery failed; will retry", retry_in=delay, **context)
            await session.commit()

    async def _seconds_to_next_due(self) -> float:
        async with self._sessions() as session:
            soonest = await session.scalar(
                select(func.min(WebhookDelivery.next_attempt_at)).where(
                    WebhookDelivery.status == _PENDING
                )
            )
        poll = self._settings.poll_seconds
        if soonest is None:
            return poll
        wait = (soonest - datetime.now(UTC)).total_seconds()
        return min(max(wait, MIN_WAIT_SECONDS), poll)
