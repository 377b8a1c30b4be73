"""Alembic environment: migrates the database that DATABASE_URL names (the service's setting)."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, pool
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine

from service.models import Base
from service.settings import async_database_url, get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _render_item(kind: str, obj: object, _context: AutogenContext) -> str | bool:
    """Write Advanced Alchemy types by the names the migration template imports."""
    if kind != "type":
        return False
    if isinstance(obj, GUID):
        return "GUID(length=16)"
    if isinstance(obj, DateTimeUTC):
        return "DateTimeUTC(timezone=True)"
    if isinstance(obj, JSON):
        return "JsonB"
    return False


def _compare_type(
    context: MigrationContext,
    _inspected: object,
    _column: object,
    _db_type: object,
    model_type: object,
) -> bool | None:
    """Compare types as Alembic does, except a GUID, which SQLite reflects as NUMERIC(16)."""
    if isinstance(model_type, GUID) and context.dialect.name == "sqlite":
        return False
    return None


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=_compare_type,
        render_item=_render_item,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    given = config.attributes.get("database_url")
    url = (
        async_database_url(
            str(given.render_as_string(hide_password=False) if isinstance(given, URL) else given)
        )
        if given
        else get_settings().database_url
    )
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    # An existing connection (tests, the app's own checks) is used as it is.
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_online())
