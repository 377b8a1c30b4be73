"""Counting stored rows straight from the database, to prove what a request stored or not."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import URL

from service.models import AuditEvent, Intake, OutboxEvent, RedFlag, StatusChange
from tests.databases import engine_on, in_database

TABLES = {
    "intake": Intake,
    "red_flag": RedFlag,
    "status_change": StatusChange,
    "audit_event": AuditEvent,
    "outbox_event": OutboxEvent,
}


async def count_rows(url: URL) -> dict[str, int]:
    async with engine_on(url) as engine, engine.connect() as connection:
        return {
            name: int(
                (await connection.execute(select(func.count()).select_from(model))).scalar_one()
            )
            for name, model in TABLES.items()
        }


async def stored_answers(url: URL) -> dict[str, object]:
    """The answers of the only intake stored."""
    [(answers,)] = await in_database(url, select(Intake.answers))
    return dict(answers)
