"""Admins' webhook work: register, list and disable endpoints; see and re-queue deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.codes import DeliveryStatus, EventType
from service.models import WebhookDelivery, WebhookEndpoint
from service.webhooks._receivers import check_url
from service.webhooks._signing import new_secret


class WebhookAdminError(ValueError):
    """The request cannot be done as asked; the message says why, in one line."""


async def add_endpoint(
    session: AsyncSession, url: str, event_types: Sequence[str], now: datetime
) -> WebhookEndpoint:
    """Register a receiver with a fresh secret; it hears of events from now on."""
    try:
        url = check_url(url)
        kinds = sorted({EventType.parse(kind) for kind in event_types})
    except ValueError as error:
        raise WebhookAdminError(str(error)) from None
    if not kinds:
        names = ", ".join(kind.value for kind in EventType)
        raise WebhookAdminError(f"name at least one event type: {names}")
    endpoint = WebhookEndpoint(
        url=url,
        secret=new_secret(),
        event_types=[kind.value for kind in kinds],
        is_active=True,
        created_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def list_endpoints(session: AsyncSession) -> list[WebhookEndpoint]:
    statement = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)
    return list(await session.scalars(statement))


async def disable_endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
    """Stop sending to an endpoint; its pending deliveries turn dead when next due."""
    endpoint = await _endpoint(session, endpoint_id)
    endpoint.is_active = False
    await session.flush()
    return endpoint


async def recent_deliveries(
    session: AsyncSession, status: DeliveryStatus | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """The newest deliveries first, with their endpoint, event and every attempt."""
    statement = (
        select(WebhookDelivery)
        .options(
            selectinload(WebhookDelivery.attempt_log),
            selectinload(WebhookDelivery.endpoint),
            selectinload(WebhookDelivery.event),
        )
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status.value)
    return list(await session.scalars(statement))


async def requeue_delivery(
    session: AsyncSession, delivery_id: str, now: datetime
) -> WebhookDelivery:
    """Send a dead delivery again, with a full set of attempts; its history stays."""
    try:
        key = int(delivery_id)
    except ValueError:
        raise WebhookAdminError(f"unknown webhook delivery {delivery_id!r}") from None
    delivery = await session.get(
        WebhookDelivery, key, options=[selectinload(WebhookDelivery.endpoint)]
    )
    if delivery is None:
        raise WebhookAdminError(f"unknown webhook delivery {delivery_id!r}")
    if delivery.status != DeliveryStatus.DEAD.value:
        raise WebhookAdminError(f"delivery {key} is {delivery.status}, not dead")
    if not delivery.endpoint.is_active:
        raise WebhookAdminError(f"delivery {key} goes to a disabled endpoint")
    delivery.status = DeliveryStatus.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.completed_at = None
    await session.flush()
    return delivery


async def requeue_dead_deliveries(
    session: AsyncSession, now: datetime, endpoint_id: str | None = None
) -> list[int]:
    """Send every dead delivery again (to one endpoint, or to every active one): after a
    receiver's long outage. Their histories stay. Returns the deliveries' ids."""
    query = (
        select(WebhookDelivery)
        .join(WebhookDelivery.endpoint)
        .where(WebhookDelivery.status == DeliveryStatus.DEAD.value, WebhookEndpoint.is_active)
        .order_by(WebhookDelivery.id)
    )
    if endpoint_id is not None:
        query = query.where(
            WebhookDelivery.endpoint_id == (await _endpoint(session, endpoint_id)).id
        )
    deliveries = list(await session.scalars(query))
    for delivery in deliveries:
        delivery.status = DeliveryStatus.PENDING.value
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.completed_at = None
    await session.flush()
    return [delivery.id for delivery in deliveries]


async def _endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
    try:
        key = UUID(endpoint_id.strip())
    except ValueError:
        raise WebhookAdminError(f"unknown webhook endpoint {endpoint_id!r}") from None
    endpoint = await session.get(WebhookEndpoint, key)
    if endpoint is None:
        raise WebhookAdminError(f"unknown webhook endpoint {endpoint_id!r}")
    return endpoint
