"""Fresh, migrated databases for tests: SQLite files, or PostgreSQL databases from a template.

`TEST_DATABASE=postgresql` selects PostgreSQL (the second pass of `.ci/run`); the server is
`TEST_POSTGRES_URL`, by default the one the project's machines run at 127.0.0.1:5432.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from sqlalchemy import Executable, Row
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.database import alembic_config
from service.settings import async_database_url

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
POSTGRES_URL = make_url(
    os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)


def migrate(url: str | URL, revision: str = "head") -> None:
    config = alembic_config()
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)


def _postgres(database: str) -> URL:
    return POSTGRES_URL.set(drivername="postgresql", database=database)


async def _admin(sql: str) -> None:
    dsn = POSTGRES_URL.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_postgres_database(name: str, template: str | None = None) -> URL:
    clause = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin(f'CREATE DATABASE "{name}"{clause}'))
    return _postgres(name)


async def _drop_postgres_databases(names: list[str], at_once: int = 16) -> None:
    """Drop `names`, `at_once` at a time: each waits for a checkpoint, and the drops waiting
    together share one."""
    slots = asyncio.Semaphore(at_once)

    async def drop(name: str) -> None:
        async with slots:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    await asyncio.gather(*(drop(name) for name in names))


class DatabaseFactory:
    """Makes a migrated template once, then copies it for each test that asks.

    On PostgreSQL a copy takes a tenth of a second or more, most of it the server writing and
    syncing its files: so the next test's copy is made in the background while this test runs.
    The copies are dropped at the end, several at once: each DROP DATABASE waits for a
    checkpoint, which during the run would hold up the next copy and every test's commits.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.prefix = f"intake_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._template: str | None = None
        self._made: list[str] = []
        self._numbers = itertools.count()
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="next-database")
        self._next: Future[URL] | None = None

    def _template_name(self) -> str:
        if self._template is None:
            if BACKEND == "postgresql":
                self._template = f"{self.prefix}_template"
                migrate(create_postgres_database(self._template))
            else:
                template = self.workdir / "template.sqlite3"
                migrate(f"sqlite:///{template}")
                self._template = str(template)
        return self._template

    def empty(self) -> URL:
        """A database with no tables at all, for migration tests."""
        name = self._name()
        if BACKEND == "postgresql":
            return create_postgres_database(name)
        return make_url(f"sqlite:///{self.workdir / name}.sqlite3")

    def migrated(self) -> URL:
        """A fresh database at the head revision."""
        template = self._template_name()
        if BACKEND == "postgresql":
            made = self._next.result() if self._next else self._copy(template)
            self._next = self._background.submit(self._copy, template)
            return made
        target = self.workdir / f"{self._name()}.sqlite3"
        shutil.copyfile(template, target)
        return make_url(f"sqlite:///{target}")

    def _copy(self, template: str) -> URL:
        return create_postgres_database(self._name(), template)

    def _name(self) -> str:
        """A new database's name, kept for `drop_all` (from either thread: `count` is atomic)."""
        name = f"{self.prefix}_{next(self._numbers)}"
        self._made.append(name)
        return name

    def drop_all(self) -> None:
        self._background.shutdown(wait=True)
        if BACKEND == "postgresql":
            asyncio.run(_drop_postgres_databases([*self._made, *filter(None, [self._template])]))


@contextmanager
def database_factory(workdir: Path) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(workdir)
    try:
        yield factory
    finally:
        factory.drop_all()


@asynccontextmanager
async def engine_on(url: URL | str) -> AsyncIterator[AsyncEngine]:
    """An engine on a test's database, with the service's async driver; disposed after."""
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    engine = create_async_engine(async_database_url(url))
    try:
        yield engine
    finally:
        await engine.dispose()


async def in_database(url: URL | str, statement: Executable) -> list[Row[Any]]:
    """Run one statement on a test's database, committed; the rows it returns, if any."""
    async with engine_on(url) as engine, engine.begin() as connection:
        result = await connection.execute(statement)
        return list(result) if result.returns_rows else []
