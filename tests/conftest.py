"""Shared fixtures: a fresh migrated database per test, the app on it, and a client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.app import create_app
from service.settings import get_settings
from tests.databases import BACKEND, DatabaseFactory, database_factory, engine_on
from tests.server import LiveServer, live_server, service_settings

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
"""Where several-worker tests count their rate limits (.ci/run starts Redis if it is down)."""

# CI tries the same examples on every run, so a red CI always means the code changed; runs on a
# developer's machine explore new ones (and keep any failure in .hypothesis/ to replay).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_report_header() -> str:
    return f"database backend: {BACKEND}"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many workers `-n auto` (pyproject's addopts) starts: one more than the cores this
    process may use. Most tests wait more than they compute (a deadline, a server starting, the
    browser), so with one worker a core the cores sit idle about a third of the time. On the
    2-core CI machine three workers finish each pass about a tenth sooner than two; four gain
    only a few seconds more (the timing group below is then one worker's whole load) and put
    more load beside the tests that time the service."""
    return len(os.sched_getaffinity(0)) + 1


# pytest-xdist runs the suite on several workers (pyproject's addopts, `--dist loadgroup`).
# Each test has its own database, folder, free ports and Redis namespace (the database's), so
# most run side by side. These groups each run on one worker, one test at a time: Chromium
# with its shared servers, and tests that time the service (deadlines, live updates, render time
# limits, a SIGKILL after so many answers) or start several server processes at once.
XDIST_GROUPS = {
    "chromium": ("tests/browser/", "tests/staff_browser/"),
    "timing": (
        "tests/reliability/test_crash_safety.py",
        "tests/reliability/test_redis_outage.py",
        "tests/reliability/test_renderer_failure.py",
        "tests/reliability/test_serving.py",
        "tests/reliability/test_workers.py",
        "tests/staff/test_live_queue.py",
        "tests/staff/test_live_sessions.py",
        "tests/summary/test_renderer.py",
        "tests/webhooks/test_workers.py",
    ),
}


def _xdist_group(item: pytest.Item) -> str | None:
    path = item.path.relative_to(item.config.rootpath).as_posix()
    for group, prefixes in XDIST_GROUPS.items():
        if path.startswith(prefixes):
            return group
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups from the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if group := _xdist_group(item):
            item.add_marker(pytest.mark.xdist_group(group))
    # A test that asks for a database is marked for the PostgreSQL pass of .ci/run.
    for item in items:
        if {"databases", "database_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)
    # Tests of PostgreSQL itself (an outage, LISTEN/NOTIFY) belong to the PostgreSQL pass only:
    # deselected, and so counted as such, in the SQLite pass.
    if BACKEND != "postgresql":
        postgres_only = [item for item in items if item.get_closest_marker("postgresql")]
        if postgres_only:
            config.hook.pytest_deselected(items=postgres_only)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """On an xdist worker with `--dist loadgroup`, fail a grouped test that xdist did not group.

    xdist groups a test by appending `@group` to its node id; when that does not take (pytest
    9.2 with pytest-xdist 3.8), the groups above are spread over every worker without a word,
    and tests that time the service run side by side.
    """
    group = _xdist_group(item)
    grouping = getattr(item.config.option, "loadgroup", False)
    if group and grouping and not item.nodeid.endswith(f"@{group}"):
        pytest.fail(
            f"pytest-xdist did not put this test in its group {group!r} (its node id does not "
            f"end in @{group}): see the note on pytest's version in pyproject.toml",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    with database_factory(tmp_path_factory.mktemp("databases")) as factory:
        yield factory


@pytest.fixture
def database_url(databases: DatabaseFactory) -> URL:
    return databases.migrated()


@pytest.fixture
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    """An engine on this test's database (the one engine set-up of the tests: engine_on)."""
    async with engine_on(database_url) as made:
        yield made


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """ORM sessions on this test's database, as a request's (objects stay loaded at commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def service_env(
    database_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The environment the service reads, pointed at this test's database and folder."""
    env = service_settings(database_url, tmp_path, LIVE_STREAM_SECONDS="1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


@pytest.fixture
def app(service_env: dict[str, str]) -> Litestar:
    return create_app()


@pytest.fixture
def app_with(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Litestar]:
    """The app on this test's database, with some settings changed: `app_with(NAME="value")`."""

    def make(**env: str) -> Litestar:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return create_app()

    return make


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def two_workers(service_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts `serve` with WORKERS=2 sharing REDIS_URL, with extra settings as keywords.
    PostgreSQL only: mark the test `postgresql`. `tests.server.clients_on_each_worker` gives a
    client held on each worker process."""
    with ExitStack() as running:

        def start(**env: str) -> LiveServer:
            settings = {"WORKERS": "2", "REDIS_URL": REDIS_URL, "PYTHONUNBUFFERED": "1", **env}
            log_path = tmp_path / "two-workers.log"
            return running.enter_context(live_server({**service_env, **settings}, log_path))

        yield start
