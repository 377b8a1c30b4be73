"""Counting stored rows straight from the database, to prove what a request stored or not."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from service.models import AuditEvent, Intake, OutboxEvent, RedFlag, StatusChange
from service.settings import async_database_url

TABLES = {
    "intake": Intake,
    "red_flag": RedFlag,
    "status_change": StatusChange,
    "audit_event": AuditEvent,
    "outbox_event": OutboxEvent,
}


async def count_rows(url: URL) -> dict[str, int]:
    engine = create_async_engine(async_database_url(url.render_as_string(hide_password=False)))
    try:
        async with engine.connect() as connection:
            return {
                name: int(
                    (await connection.execute(select(func.count()).select_from(model))).scalar_one()
                )
                for name, model in TABLES.items()
            }
    finally:
        await engine.dispose()


async def stored_answers(url: URL) -> dict[str, object]:
    """The answers of the only intake stored."""
    engine = create_async_engine(async_database_url(url.render_as_string(hide_password=False)))
    try:
        async with engine.connect() as connection:
            [answers] = (await connection.execute(select(Intake.answers))).scalars().all()
            return dict(answers)
    finally:
        await engine.dispose()
