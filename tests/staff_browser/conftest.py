"""Fixtures of the staff browser tests: one Chromium and one real server for the module.

Playwright's sync API, so every test and fixture here is a plain function. While Chromium is
up, Playwright leaves its own event loop marked as running in this thread, so any
`asyncio.run()` (creating staff accounts, migrating) runs in a thread of its own (`off_loop`).
Chromium is module-scoped so that Playwright has stopped before other directories' async
tests run; the session-scoped database factory is asked for first, so it outlives Chromium.
The server runs without a PDF prerender (tests/server.py), so no render worker takes the
machine's cores in the middle of a timed live update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.chromium import chromium, off_loop
from tests.databases import BACKEND, DatabaseFactory
from tests.server import service_settings, serving
from tests.staff.support import make_staff
from tests.staff_browser.support import StaffSite, new_context


@pytest.fixture(scope="module")
def staff_site(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaffSite]:
    """The service in its own uvicorn process, on a fresh migrated database with staff."""
    database_url = off_loop(databases.migrated)
    tokens = off_loop(lambda: asyncio.run(make_staff(database_url)))
    folder = tmp_path_factory.mktemp("staff-browser")
    env = service_settings(database_url, folder, LIVE_STREAM_SECONDS="30")
    yield from _serve(env, folder, tokens)


@pytest.fixture
def live_site(staff_site: StaffSite, tmp_path: Path) -> Iterator[StaffSite]:
    """The site for tests that wait for a live update.

    On SQLite, the module's server. On PostgreSQL, a server process of its own (same
    database): there, a browser dropping its event stream can leave the process deaf to
    the queue channel (see test_a_reloaded_queue_still_updates_live), so one test's closed
    pages must not decide whether the next test's updates arrive.
    """
    if BACKEND != "postgresql":
        yield staff_site
        return
    env = {**staff_site.env, "VAR_DIR": str(tmp_path / "var")}
    yield from _serve(env, tmp_path, staff_site.tokens)


def _serve(env: dict[str, str], folder: Path, tokens: dict[str, str]) -> Iterator[StaffSite]:
    with serving(env, folder / "server.log") as server:
        yield StaffSite(server.base_url, tokens, env, server)


@pytest.fixture(scope="module")
def browser(staff_site: StaffSite) -> Iterator[Browser]:
    # After `staff_site` (and so after `databases`): Chromium stops before both are torn down.
    with chromium() as running:
        yield running


@pytest.fixture
def contexts(browser: Browser, staff_site: StaffSite) -> Iterator[Callable[..., BrowserContext]]:
    """Makes browser contexts (own cookies, own session) on a site (by default the module's),
    and closes them after the test."""
    made: list[BrowserContext] = []

    def make(site: StaffSite | None = None, **options: object) -> BrowserContext:
        context = new_context(browser, (site or staff_site).base_url, **options)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
