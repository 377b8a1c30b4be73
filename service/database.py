"""The database connection: the Advanced Alchemy config, SQLite pragmas, and schema checks."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
)
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError

from service.settings import ROOT, Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger(__name__)

# Seconds before a database that does not answer counts as unavailable.
CONNECT_TIMEOUT = 5.0
HEALTH_TIMEOUT = 3.0


class SchemaBehindError(RuntimeError):
    """The database has not been migrated to the revision this code needs."""


def sqlalchemy_config(settings: Settings) -> SQLAlchemyAsyncConfig:
    """One config for the app and the CLI; the Litestar plugin owns its engine and sessions."""
    connect_args: dict[str, Any] = {}
    engine_options: dict[str, Any] = {}
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        connect_args["timeout"] = CONNECT_TIMEOUT  # the busy timeout, in seconds
    else:
        connect_args["timeout"] = CONNECT_TIMEOUT
        engine_options = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
    config = SQLAlchemyAsyncConfig(
        connection_string=settings.database_url.render_as_string(hide_password=False),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        engine_config=EngineConfig(connect_args=connect_args, **engine_options),
        # Form posts answer with a redirect (Post/Redirect/Get); those must commit too.
        before_send_handler="autocommit_include_redirects",
        create_all=False,
    )
    if settings.is_sqlite:
        _set_sqlite_pragmas(config.get_engine(), settings.sqlite_synchronous)
    return config


def _set_sqlite_pragmas(engine: AsyncEngine, synchronous: str) -> None:
    """WAL for concurrent readers, enforced foreign keys, and a durable `synchronous`."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(CONNECT_TIMEOUT * 1000)}")
        cursor.close()


def alembic_config() -> AlembicConfig:
    return AlembicConfig(str(ROOT / "alembic.ini"))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def check_schema(engine: AsyncEngine) -> None:
    """Refuse to serve on a database the migrations have not reached; say what to run."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_revision)
    head = head_revision()
    if current != head:
        raise SchemaBehindError(
            f"the database is at schema revision {current or 'none (empty)'} but this code needs "
            f"{head}: run `alembic upgrade head` from the repository root, then start again"
        )


async def database_is_up(engine: AsyncEngine) -> bool:
    """Whether the database answers a trivial query in time. Logs one line when it does not."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.warning("database unavailable", error=type(error).__name__)
        return False
    return True
