"""`GET /health` answers for the service and its database, up or down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from service.app import create_app
from service.settings import get_settings
from tests.databases import BACKEND
from tests.server import live_server
from tests.tcp_proxy import tcp_proxy


async def test_health_is_ok_with_the_database(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_with_a_clear_log_line_when_the_database_cannot_be_opened(
    service_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A SQLite file in a folder that does not exist cannot be opened: the database is gone.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'clinic.sqlite3'}")
    get_settings.cache_clear()
    caplog.set_level(logging.WARNING)
    async with AsyncTestClient(app=create_app()) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unavailable"}
    assert response.headers["retry-after"] == "5"
    lines = [record.getMessage() for record in caplog.records]
    assert any("database unavailable" in line for line in lines), lines
    assert not any("Traceback" in (record.exc_text or "") for record in caplog.records)


@pytest.mark.postgresql
def test_a_real_server_reports_a_stopped_database_and_recovers_by_itself(
    database_url: URL, service_env: dict[str, str], tmp_path: Path
) -> None:
    assert BACKEND == "postgresql"
    with tcp_proxy(database_url.host or "127.0.0.1", database_url.port or 5432) as proxy:
        through_proxy = database_url.set(host="127.0.0.1", port=proxy.port)
        env = {**service_env, "DATABASE_URL": through_proxy.render_as_string(hide_password=False)}
        with live_server(env, tmp_path / "server.log") as server:
            assert httpx.get(f"{server.base_url}/health").status_code == 200

            proxy.stop()
            down = httpx.get(f"{server.base_url}/health", timeout=15)
            assert down.status_code == 503
            assert down.json() == {"status": "degraded", "database": "unavailable"}

            proxy.start()
            back = httpx.get(f"{server.base_url}/health", timeout=15)
            assert back.status_code == 200, back.text
        log = server.log()
    assert "database unavailable" in log
    assert "Traceback" not in log


async def test_every_app_closes_its_database_connections_when_it_stops(
    app_with: Callable[..., Litestar],
) -> None:
    """The second app of a process too: Advanced Alchemy's own shutdown closes the connections
    of only the first config a process makes (service.app.database_engine)."""
    for _ in range(2):
        app = app_with()
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/health")).status_code == 200
        pool = app.state.parts.db.get_engine().pool
        assert pool.checkedin() == pool.checkedout() == 0, pool.status()
