"""Starting the real server: on a migrated database it serves, on an unmigrated one it refuses;
settings it cannot run with (a PUBLIC_BASE_URL that is no origin) stop it with a clear message."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from service.database import sqlalchemy_config
from service.settings import SettingsError, get_settings
from tests.databases import DatabaseFactory
from tests.server import live_server


def test_a_server_process_serves_health_on_a_migrated_database(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    with live_server(service_env, tmp_path / "server.log") as server:
        response = httpx.get(f"{server.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_server_refuses_an_unmigrated_database_and_says_what_to_run(
    databases: DatabaseFactory, service_env: dict[str, str], tmp_path: Path
) -> None:
    empty: URL = databases.empty()
    env = {**service_env, "DATABASE_URL": empty.render_as_string(hide_password=False)}
    with live_server(env, tmp_path / "server.log") as server:
        exit_code = server.process.wait(timeout=30)
    assert exit_code != 0
    assert "run `alembic upgrade head`" in server.log()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("journal_mode", "wal"), ("synchronous", 2), ("foreign_keys", 1), ("busy_timeout", 5000)],
)
async def test_sqlite_runs_with_durable_pragmas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, expected: object
) -> None:
    # synchronous=2 is FULL: a commit waits for the WAL to reach the disk (see README).
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    engine = sqlalchemy_config(get_settings()).get_engine()
    try:
        async with engine.connect() as connection:
            value = (await connection.execute(text(f"PRAGMA {name}"))).scalar()
    finally:
        await engine.dispose()
        get_settings.cache_clear()
    assert value == expected


def _public_base_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> str | None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PUBLIC_BASE_URL", value)
    get_settings.cache_clear()
    try:
        return get_settings().public_base_url
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    "value",
    [
        "https://intake.clinic.example:abc",
        "https://intake.clinic.example:99999",
        "https://intake.clinic.example:0",
        "https://intake.clinic.example/intake",
        "ftp://intake.clinic.example",
        "https://",
        "https://user@intake.clinic.example",
    ],
)
def test_a_public_base_url_that_is_no_origin_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Accepted, a bad port made the same-origin check fall back to the Host header unseen.
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL must be an origin"):
        _public_base_url(tmp_path, monkeypatch, value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://Intake.Clinic.example/", "https://intake.clinic.example"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_a_public_base_url_is_an_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    assert _public_base_url(tmp_path, monkeypatch, value) == expected
