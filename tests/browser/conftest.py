"""Fixtures of the browser tests: one Chromium per module, one real server for the session.

Playwright's sync API, because it cannot run inside a running asyncio loop: these tests and
fixtures are plain functions, never coroutines. The reverse holds too: while Playwright runs,
it leaves its own loop marked as running in this thread between two sync calls, so
`asyncio.run()` (Alembic's migrations, `count_rows`, creating a PostgreSQL database) and every
async test fail here once Chromium is up. Hence:
- Chromium is module-scoped, never session-scoped: Playwright stops (and unmarks its loop)
  before the async tests of the next directory run;
- database work during a browser test runs in a thread of its own (`off_loop`);
- the database factory is set up before Chromium and torn down after it.

One server for all the tests, because starting one costs seconds on a small machine: each test
has its own browser context (its own cookies, so its own session), counts what its own actions
stored as a difference, and finds its intakes by their reference codes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser.support import Site
from tests.chromium import chromium, off_loop
from tests.databases import DatabaseFactory
from tests.server import service_settings, serving

CLINIC_PHONE = "+91 484 123 4567"


@pytest.fixture(scope="module")
def browser(databases: DatabaseFactory) -> Iterator[Browser]:
    # `databases` first: its PostgreSQL databases are dropped with asyncio.run() at the end of
    # the session, which must come after Playwright has stopped.
    with chromium() as running:
        yield running


@pytest.fixture(scope="session")
def site(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The service in its own uvicorn process, on a fresh migrated database of its own."""
    database_url = off_loop(databases.migrated)
    folder = tmp_path_factory.mktemp("browser-site")
    env = service_settings(database_url, folder, CLINIC_PHONE=CLINIC_PHONE)
    with serving(env, folder / "server.log") as server:
        yield Site(server.base_url, database_url, CLINIC_PHONE, server)
