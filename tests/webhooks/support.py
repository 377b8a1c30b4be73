"""The database side of webhook tests: endpoints, intakes and what the worker recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.clinic import Clinic
from service.database import sqlalchemy_config
from service.intake import Accepted, IntakeWriter, NewIntake, submit_intake
from service.models import OutboxEvent, WebhookDelivery
from service.settings import get_settings
from service.webhooks import DeliveryWorker, WorkerSettings, add_endpoint
from tests.patients import patient_json


@dataclass
class Endpoint:
    id: str
    secret: str


class Database:
    """Sessions on the test's database, configured as the service configures them."""

    def __init__(self) -> None:
        self.config = sqlalchemy_config(get_settings())

    def session(self) -> Any:
        return self.config.get_session()

    async def close(self) -> None:
        await self.config.get_engine().dispose()

    async def endpoint(self, url: str, *events: str) -> Endpoint:
        async with self.session() as session:
            endpoint = await add_endpoint(session, url, events, datetime.now(UTC))
            await session.commit()
            return Endpoint(str(endpoint.id), endpoint.secret)

    async def submit(self, **answers: object) -> NewIntake:
        """Store an intake as the app does: committed by an intake writer (one of its own,
        stopped once the intake is stored)."""
        clinic = Clinic.load(get_settings())
        async with IntakeWriter(self.session) as writer:
            outcome = await submit_intake(
                self.session,
                clinic,
                language="en",
                raw_answers=patient_json(**answers),
                now=datetime.now(UTC),
                writer=writer,
            )
            assert isinstance(outcome, Accepted)
            assert isinstance(outcome.intake, NewIntake)
            return outcome.intake

    async def events(self) -> list[OutboxEvent]:
        async with self.session() as session:
            statement = select(OutboxEvent).order_by(OutboxEvent.created_at)
            return list(await session.scalars(statement))

    async def deliveries(self) -> list[WebhookDelivery]:
        async with self.session() as session:
            statement = (
                select(WebhookDelivery)
                .options(selectinload(WebhookDelivery.attempt_log))
                .order_by(WebhookDelivery.id)
            )
            return list(await session.scalars(statement))


@asynccontextmanager
async def database() -> AsyncIterator[Database]:
    db = Database()
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def worker(db: Database) -> AsyncIterator[DeliveryWorker]:
    """A delivery worker on the test's database, with the environment's settings."""
    async with DeliveryWorker(db.session, WorkerSettings.of(get_settings())) as running:
        yield running


async def in_session(db: Database, work: Callable[[AsyncSession], Any]) -> Any:
    async with db.session() as session:
        result = await work(session)
        await session.commit()
        return result
