"""Settings from environment variables, read once: every module asks `get_settings()`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: templates, migrations and `alembic.ini` live here."""

# A plain `postgresql://` or `sqlite:///` URL works unchanged: the service picks the async driver.
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


# An emergency should not wait at all; the others within what their level promises.
_LONG_WAIT_DEFAULTS = {"emergency": 5, "urgent": 60, "soon": 240, "routine": 480}


class SettingsError(ValueError):
    """A setting has a value the service cannot run with; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: URL
    var_dir: Path
    clinic_name: str
    clinic_phone: str
    clinic_timezone: ZoneInfo
    secret_key: str
    behind_https: bool
    intake_rate_limit_per_minute: int
    login_rate_limit_per_minute: int
    log_level: str
    sqlite_synchronous: str
    questionnaire_file: Path | None
    rule_set_file: Path | None
    live_stream_seconds: int
    """How long one server-sent event stream lasts before the browser reconnects by itself."""
    long_wait_minutes: Mapping[str, int]
    """Per level: after this many minutes in the queue, reception sees the row highlighted."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.get_backend_name() == "sqlite"


def async_database_url(raw: str) -> URL:
    """The SQLAlchemy URL with the async driver the service uses for that database."""
    try:
        url = make_url(raw)
    except ArgumentError as error:
        raise SettingsError(f"DATABASE_URL is not a database URL: {error}") from None
    backend = url.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise SettingsError(
            f"DATABASE_URL: unsupported database {backend!r}; use sqlite or postgresql"
        )
    if url.drivername == backend:
        url = url.set(drivername=_ASYNC_DRIVERS[backend])
    return url


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def _bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _path(name: str) -> Path | None:
    raw = os.environ.get(name, "").strip()
    return Path(raw) if raw else None


def _secret_key(var_dir: Path) -> str:
    """SECRET_KEY, or a random one kept under var/ so sessions survive a restart."""
    if key := os.environ.get("SECRET_KEY", "").strip():
        return key
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process. Tests set the environment, then call `cache_clear()`."""
    var_dir = Path(os.environ.get("VAR_DIR", str(ROOT / "var"))).resolve()
    default_db = f"sqlite:///{var_dir / 'clinic.sqlite3'}"
    timezone_name = os.environ.get("CLINIC_TIMEZONE", "Asia/Kolkata")
    try:
        timezone = ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"CLINIC_TIMEZONE: unknown time zone {timezone_name!r}") from None
    synchronous = os.environ.get("SQLITE_SYNCHRONOUS", "FULL").strip().upper()
    if synchronous not in {"FULL", "EXTRA"}:
        # NORMAL or OFF could lose an acknowledged intake on power loss; not offered.
        raise SettingsError("SQLITE_SYNCHRONOUS must be FULL or EXTRA")
    return Settings(
        database_url=async_database_url(os.environ.get("DATABASE_URL", default_db)),
        var_dir=var_dir,
        clinic_name=os.environ.get("CLINIC_NAME", "Roy Medical Centre"),
        clinic_phone=os.environ.get("CLINIC_PHONE", "+91 471 000 0000"),
        clinic_timezone=timezone,
        secret_key=_secret_key(var_dir),
        behind_https=_bool("BEHIND_HTTPS", default=False),
        intake_rate_limit_per_minute=_int("INTAKE_RATE_LIMIT_PER_MINUTE", 10),
        login_rate_limit_per_minute=_int("LOGIN_RATE_LIMIT_PER_MINUTE", 10),
        log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        sqlite_synchronous=synchronous,
        questionnaire_file=_path("QUESTIONNAIRE_FILE"),
        rule_set_file=_path("RULE_SET_FILE"),
        live_stream_seconds=_int("LIVE_STREAM_SECONDS", 300, minimum=1),
        long_wait_minutes=MappingProxyType(
            {
                level: _int(f"LONG_WAIT_{level.upper()}_MINUTES", default, minimum=1)
                for level, default in _LONG_WAIT_DEFAULTS.items()
            }
        ),
    )
