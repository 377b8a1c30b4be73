"""The bare baselines of the submission benchmark: one Litestar handler that stores the JSON.

No validation, no triage, no audit, no outbox: each inserts the body with SQLAlchemy into one
table it creates at start, one commit per request, on the same database settings as the service
(the `DATABASE_URL`, SQLite's pragmas, `synchronous=FULL` and busy timeout, PostgreSQL's pool),
so the ratio to them shows what the service's own work costs. Two of them, and a floor:

- `create_app`: async SQLAlchemy on the service's own drivers (aiosqlite, asyncpg);
- `create_durable_app` (SQLite only): sync SQLAlchemy on the stdlib sqlite3 in a thread per
  request, the plain way to a durable insert: each 201 waits for its own commit;
- `create_lean_app` (SQLite only): the floor, the service's domain work with nothing around it
  (see `LeanIntakes`).

Run: uvicorn --factory bench.baseline_app:create_app (the benchmark uses bench.common.serve).
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
from litestar import Litestar, post
from sqlalchemy import JSON, DateTime, Engine, String, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from service.clinic import Clinic
from service.database import CONNECT_TIMEOUT, _set_sqlite_pragmas
from service.intake.stored import advice_to_json, answers_to_json
from service.intake.submit import Rejected, assess, request_digest
from service.settings import async_database_url, get_settings

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


class LeanIntakes:
    """The floor (SQLite only): the service's own domain work on each intake with nothing else
    around it, to show what this machine's CPU allows for a full submission.

    A plain ASGI callable (no framework, no middleware, no request log), the same calls as
    `service.intake.submit_intake` (the request digest, `assess`: validation, triage and
    advice, the stored JSON of answers and advice), then one row per intake written
    by one thread of its own with the stdlib sqlite3: every intake waiting when it starts goes
    into one transaction, committed (`synchronous=FULL`) before any of their 201s. One row, not
    the service's five (intake, red flags, status, audit, outbox): a floor, lower than the
    service could ever be.
    """

    def __init__(self) -> None:
        url = async_database_url(os.environ.get("DATABASE_URL", "sqlite:///var/baseline.sqlite3"))
        if url.get_backend_name() != "sqlite" or url.database is None:
            raise RuntimeError("the lean floor runs on SQLite only")
        self.clinic = Clinic.load(get_settings())
        self.path = url.database
        self.synchronous = os.environ.get("SQLITE_SYNCHRONOUS", "FULL").upper()
        self.waiting: queue.SimpleQueue[tuple[tuple[str, str, str, str], Any]] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.loop: Any = None

    def _connect(self) -> Any:
        connection = sqlite3.connect(
            self.path, isolation_level=None, timeout=CONNECT_TIMEOUT, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self.synchronous}")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id VARCHAR(36) PRIMARY KEY, language"
            " VARCHAR(8), answers JSON, submitted_at DATETIME)"
        )
        return connection

    def _write(self, connection: Any) -> None:
        while True:
            batch = [self.waiting.get()]
            while not self.waiting.empty():
                batch.append(self.waiting.get_nowait())
            connection.execute("BEGIN")
            connection.executemany(
                f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608 - our own table name
                [row for row, _ in batch],
            )
            connection.execute("COMMIT")
            self.loop.call_soon_threadsafe(_settle, [future for _, future in batch])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    self.loop = asyncio.get_running_loop()
                    self.thread = threading.Thread(
                        target=self._write, args=(self._connect(),), daemon=True
                    )
                    self.thread.start()
                    await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] != "POST" or scope["path"] != "/api/v1/intakes":
            await _answer(send, 404, {})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        data = msgspec.json.decode(body)
        language, raw = data["language"], data["answers"]
        clinic, now = self.clinic, datetime.now(UTC)
        request_digest(language, raw)
        assessed = assess(clinic, language, raw, clinic.today(now))
        if isinstance(assessed, Rejected):
            await _answer(send, 422, {"errors": len(assessed.errors)})
            return
        triage = assessed.triage
        answers = msgspec.json.encode(answers_to_json(assessed.answers)).decode()
        advice_to_json(assessed.advice)
        intake_id = str(uuid4())
        stored = self.loop.create_future()
        self.waiting.put(((intake_id, language, answers, now.isoformat()), stored))
        await stored
        await _answer(send, 201, {"id": intake_id, "priority": triage.level.value})


def _settle(futures: list[Any]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


async def _answer(send: Any, status: int, body: dict[str, object]) -> None:

    content = msgspec.json.encode(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def create_lean_app() -> LeanIntakes:
    """The floor: see `LeanIntakes`."""
    return LeanIntakes()
