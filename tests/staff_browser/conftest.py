"""Fixtures of the staff browser tests: one Chromium and one real server for the module.

Playwright's sync API, so every test and fixture here is a plain function. While Chromium is
up, Playwright leaves its own event loop marked as running in this thread, so any
`asyncio.run()` (creating staff accounts, migrating) runs in a thread of its own (`off_loop`).
Chromium is module-scoped so that Playwright has stopped before other directories' async
tests run; the session-scoped database factory is asked for first, so it outlives Chromium.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.databases import BACKEND, DatabaseFactory
from tests.server import live_server
from tests.staff.support import make_staff
from tests.staff_browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    StaffSite,
    new_context,
    off_loop,
)


@pytest.fixture(scope="module")
def staff_site(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaffSite]:
    """The service in its own uvicorn process, on a fresh migrated database with staff."""
    database_url = off_loop(databases.migrated)
    tokens = off_loop(lambda: asyncio.run(make_staff(database_url)))
    folder = tmp_path_factory.mktemp("staff-browser")
    env = {
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "VAR_DIR": str(folder / "var"),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-sessions",
        "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
        "LOGIN_RATE_LIMIT_PER_MINUTE": "0",
        "LIVE_STREAM_SECONDS": "30",
    }
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
    with live_server(env, folder / "server.log") as server:
        if server.process.poll() is not None:
            pytest.fail(f"the server did not start:\n{server.log()}")
        site = StaffSite(server.base_url, tokens, env, server)
        _warm_up(site)
        yield site


def _warm_up(site: StaffSite) -> None:
    """The first intake of a server's life starts its PDF workers, which takes the machine's
    every core for seconds; a clinic's server has long since done that. So do it here, before
    anything is timed: one intake, and its PDF fetched (which waits for the render)."""
    intake = site.submit(full_name="Warm Up")
    pdf = httpx.get(
        f"{site.base_url}/api/v1/intakes/{intake['id']}/summary.pdf",
        headers={"authorization": f"Bearer {site.tokens['doctor-token']}"},
        timeout=60,
    )
    assert pdf.status_code == 200, pdf.text


@pytest.fixture(scope="module")
def browser(staff_site: StaffSite) -> Iterator[Browser]:
    # After `staff_site` (and so after `databases`): Chromium stops before both are torn down.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
