"""The bare baselines of the submission benchmark: one Litestar handler that stores the JSON.

No validation, no triage, no audit, no outbox: each inserts the body with SQLAlchemy into one
table it creates at start, one commit per request, on the same database settings as the service
(the `DATABASE_URL`, SQLite's pragmas, `synchronous=FULL` and busy timeout, PostgreSQL's pool),
so the ratio to them shows what the service's own work costs. Two of them:

- `create_app`: async SQLAlchemy on the service's own drivers (aiosqlite, asyncpg);
- `create_durable_app` (SQLite only): sync SQLAlchemy on the stdlib sqlite3 in a thread per
  request, the plain way to a durable insert: each 201 waits for its own commit.

Run: uvicorn --factory bench.baseline_app:create_app (the benchmark uses bench.common.serve).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from litestar import Litestar, post
from sqlalchemy import JSON, DateTime, Engine, String, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from service.database import CONNECT_TIMEOUT, _set_sqlite_pragmas
from service.settings import async_database_url

TABLE = "baseline_intake"


class Base(DeclarativeBase):
    pass


class BaselineIntake(Base):
    __tablename__ = TABLE

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _engine() -> AsyncEngine:
    """The engine the service would make for this `DATABASE_URL` (see service/database.py)."""
    url = async_database_url(os.environ.get("DATABASE_URL", "sqlite:///var/baseline.sqlite3"))
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": CONNECT_TIMEOUT})
        _set_sqlite_pragmas(engine, os.environ.get("SQLITE_SYNCHRONOUS", "FULL").upper())
        return engine
    return create_async_engine(
        url,
        connect_args={"timeout": CONNECT_TIMEOUT},
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
    )


def create_app() -> Litestar:
    engine = _engine()
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    @post("/api/v1/intakes")
    async def submit(data: dict[str, Any]) -> dict[str, str]:
        row = BaselineIntake(
            id=str(uuid4()),
            language=data.get("language"),
            answers=data.get("answers"),
            submitted_at=datetime.now(UTC),
        )
        async with sessions() as session:
            session.add(row)
            await session.commit()
        return {"id": row.id}

    async def create_table() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def close() -> None:
        await engine.dispose()

    return Litestar([submit], on_startup=[create_table], on_shutdown=[close])


def _sync_engine() -> Engine:
    """The synchronous engine for the same `DATABASE_URL`, with the same SQLite pragmas."""
    url = async_database_url(os.environ.get("DATABASE_URL", "sqlite:///var/baseline.sqlite3"))
    if url.get_backend_name() != "sqlite":
        # The project installs no synchronous PostgreSQL driver; SQLite is where it is compared.
        raise RuntimeError("the durable baseline runs on SQLite only")
    engine = create_engine(url.set(drivername="sqlite"), connect_args={"timeout": CONNECT_TIMEOUT})
    synchronous = os.environ.get("SQLITE_SYNCHRONOUS", "FULL").upper()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(CONNECT_TIMEOUT * 1000)}")
        cursor.close()

    return engine


def create_durable_app() -> Litestar:
    """Sync SQLAlchemy in a worker thread, one durable commit per request."""
    engine = _sync_engine()
    sessions = sessionmaker(engine, expire_on_commit=False)

    @post("/api/v1/intakes", sync_to_thread=True)
    def submit(data: dict[str, Any]) -> dict[str, str]:
        row = BaselineIntake(
            id=str(uuid4()),
            language=data.get("language"),
            answers=data.get("answers"),
            submitted_at=datetime.now(UTC),
        )
        with sessions() as session:
            session.add(row)
            session.commit()
        return {"id": row.id}

    def create_table() -> None:
        Base.metadata.create_all(engine)

    def close() -> None:
        engine.dispose()

    return Litestar([submit], on_startup=[create_table], on_shutdown=[close])
