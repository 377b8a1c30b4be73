"""Settings from environment variables, read once: every module asks `get_settings()`."""

from __future__ import annotations

import ipaddress
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

from service.origin import parse_origin

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: templates, migrations and `alembic.ini` live here."""

# A plain `postgresql://` or `sqlite:///` URL works unchanged: the service picks the async driver.
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


# An emergency should not wait at all; the others within what their level promises.
_LONG_WAIT_DEFAULTS = {"emergency": 5, "urgent": 60, "soon": 240, "routine": 480}

# A placeholder namespace: a clinic that shares its FHIR export sets its own (a URL it owns).
DEFAULT_FHIR_IDENTIFIER_SYSTEM = "https://clinic.example/fhir"


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
    live_keepalive_seconds: int
    """How often an idle live-queue stream sends a keepalive and checks its staff session."""
    long_wait_minutes: Mapping[str, int]
    """Per level: after this many minutes in the queue, reception sees the row highlighted."""
    webhook_worker: bool
    """Whether this process runs a webhook delivery worker (on PostgreSQL several may)."""
    webhook_max_attempts: int
    webhook_backoff_seconds: float
    """The wait after the first failed attempt; it doubles with each further failure."""
    webhook_poll_seconds: float
    """How often the worker looks for events written by other processes, and due retries."""
    webhook_timeout_seconds: float
    fhir_identifier_system: str
    """The clinic's base URI for FHIR identifier and code systems in the FHIR export."""
    summary_workers: int
    """PDF render worker processes; by default one core fewer than the machine has (at least
    one), so the server keeps a core for the queue while summaries render."""
    summary_timeout_seconds: float
    """A render running longer is stopped (its worker killed) and answered 503."""
    summary_prerender: bool
    """Whether a summary is rendered in the background after each new intake revision."""
    public_base_url: str | None
    """Where the clinic serves this service (`https://intake.clinic.example`): every absolute
    link starts with it. None: links are made from the local address, never from `Host`."""
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    """The peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed; none by default,
    so no client can choose the address its rate limits count against."""
    workers: int
    """Server processes; more than one only on PostgreSQL (SQLite has one writer)."""
    redis_url: str | None
    """Where rate limits and lockouts are counted when several processes serve; None keeps
    them in this process's memory (one worker)."""
    session_idle_minutes: int
    """A staff session unused for this long has ended."""
    session_absolute_hours: int
    """A staff session ends this long after sign-in, however busy."""

    @property
    def summary_dir(self) -> Path:
        """Where rendered summary PDFs are cached."""
        return self.var_dir / "summaries"

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


def _seconds(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value >= minimum:  # also refuses nan
        raise SettingsError(f"{name} must be at least {minimum} seconds")
    return value


def _path(name: str) -> Path | None:
    raw = os.environ.get(name, "").strip()
    return Path(raw) if raw else None


def _uri(name: str, default: str) -> str:
    raw = os.environ.get(name, "").strip().rstrip("/") or default
    scheme, colon, rest = raw.partition(":")
    if not colon or not scheme.isascii() or not scheme.isalpha() or not rest or " " in raw:
        raise SettingsError(f"{name} must be an absolute URI such as {default!r}, not {raw!r}")
    return raw


def _public_base_url() -> str | None:
    raw = os.environ.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
    if not raw:
        return None
    scheme, _, rest = raw.partition("://")
    # Checked by hand too: `urlsplit` lets a space, a backslash or an empty `?` or `#` through.
    if parse_origin(raw) is None or any(char in rest for char in " /?#@\\"):
        raise SettingsError(
            "PUBLIC_BASE_URL must be an origin such as 'https://intake.clinic.example' "
            f"(scheme, host and an optional port from 1 to 65535; no path), not {raw!r}"
        )
    return f"{scheme.lower()}://{rest.lower()}"


def _trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    raw = os.environ.get("TRUSTED_PROXIES", "")
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"TRUSTED_PROXIES: {item!r} is not an IP address or network"
            ) from None
    return tuple(networks)


def _summary_workers_default() -> int:
    return max(1, len(os.sched_getaffinity(0)) - 1)


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
    database_url = async_database_url(os.environ.get("DATABASE_URL", default_db))
    workers = _int("WORKERS", 1, minimum=1)
    if workers > 1 and database_url.get_backend_name() == "sqlite":
        raise SettingsError("WORKERS above 1 needs PostgreSQL: SQLite is served by one process")
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    if workers > 1 and redis_url is None:
        # Each process would count rate limits on its own: N workers, N times the limit.
        raise SettingsError(
            "WORKERS above 1 needs REDIS_URL: the rate limits must be counted across processes"
        )
    return Settings(
        database_url=database_url,
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
        live_keepalive_seconds=_int("LIVE_KEEPALIVE_SECONDS", 15, minimum=1),
        long_wait_minutes=MappingProxyType(
            {
                level: _int(f"LONG_WAIT_{level.upper()}_MINUTES", default, minimum=1)
                for level, default in _LONG_WAIT_DEFAULTS.items()
            }
        ),
        webhook_worker=_bool("WEBHOOK_WORKER", default=True),
        webhook_max_attempts=_int("WEBHOOK_MAX_ATTEMPTS", 10, minimum=1),
        webhook_backoff_seconds=_seconds("WEBHOOK_BACKOFF_SECONDS", 30.0, minimum=0.01),
        webhook_poll_seconds=_seconds("WEBHOOK_POLL_SECONDS", 5.0, minimum=0.05),
        webhook_timeout_seconds=_seconds("WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.1),
        fhir_identifier_system=_uri("FHIR_IDENTIFIER_SYSTEM", DEFAULT_FHIR_IDENTIFIER_SYSTEM),
        summary_workers=_int("SUMMARY_WORKERS", _summary_workers_default(), minimum=1),
        summary_timeout_seconds=_seconds("SUMMARY_TIMEOUT_SECONDS", 20.0, minimum=1.0),
        summary_prerender=_bool("SUMMARY_PRERENDER", default=True),
        public_base_url=_public_base_url(),
        trusted_proxies=_trusted_proxies(),
        workers=workers,
        redis_url=redis_url,
        session_idle_minutes=_int("SESSION_IDLE_MINUTES", 30, minimum=1),
        session_absolute_hours=_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1),
    )
