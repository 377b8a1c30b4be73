"""Per-address limits on intake submissions and login attempts (Litestar's rate limiter).

A handler opts in with `opt={"rate_limit": "intake"}` or `"login"`; each kind has its own store,
so the two budgets never mix. A limit of 0 turns that limiter off (load tests). The address is
`scope["client"]`, as `service.web.proxies` decided it from `TRUSTED_PROXIES`.

One process counts in its memory. With `REDIS_URL` the counts live in Redis, so every worker
process adds to the same budget (`WORKERS` above 1 requires it). Their keys are prefixed by a
digest of the database URL: two services that share a Redis but not a database (a staging copy,
each test) do not share budgets.

When Redis cannot be reached, the limits fail open: the request goes on uncounted. An intake
must never be lost, nor a receptionist kept out, because a counter is down; the sign-in lockout
after wrong passwords is kept in the database and still holds. Each kind of failure is logged
as one warning a minute per limit (intake, sign-in), not once per request, so an outage does
not flood the log. The client gives up after a short timeout and does not retry, so a hung
Redis slows a request by about a second at most instead of hanging it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

import structlog
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from service.settings import Settings

log = structlog.get_logger(__name__)

REDIS_TIMEOUT_SECONDS = 0.5
"""How long one Redis command may take before the request goes on uncounted."""
WARN_EVERY_SECONDS = 60.0

T = TypeVar("T")


class FailOpenRedisStore(RedisStore):
    """A Redis store whose failures read as "nothing counted yet" (see the module docstring)."""

    def __init__(
        self, redis: Redis, namespace: str | None = None, handle_client_shutdown: bool = False
    ) -> None:
        super().__init__(redis, namespace=namespace, handle_client_shutdown=handle_client_shutdown)
        self._warned_at: dict[type[BaseException], float] = {}

    async def _or(self, uncounted: T, command: Awaitable[T]) -> T:
        """The command's result; `uncounted` and a warning now and then if Redis fails."""
        try:
            return await command
        except (RedisError, OSError, TimeoutError) as error:
            now = time.monotonic()
            last = self._warned_at.get(type(error))
            if last is None or now - last >= WARN_EVERY_SECONDS:
                self._warned_at[type(error)] = now
                log.warning(
                    "rate limit not counted: Redis unavailable",
                    error=type(error).__name__,
                    store=self.namespace,
                )
            return uncounted

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self._or(None, super().get(key, renew_for))

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        await self._or(None, super().set(key, value, expires_in))

    async def delete(self, key: str) -> None:
        await self._or(None, super().delete(key))

    async def expires_in(self, key: str) -> int | None:
        return await self._or(None, super().expires_in(key))


def _limits(settings: Settings) -> dict[str, int]:
    """Per kind, how many requests one address may make a minute (0: not limited)."""
    return {
        "intake": settings.intake_rate_limit_per_minute,
        "login": settings.login_rate_limit_per_minute,
    }


_STORE_SUFFIX = "_rate_limit"


def _store_name(kind: str) -> str:
    return f"{kind}{_STORE_SUFFIX}"


class _KindRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's rate limiter, on the routes of one kind only. The others pass straight on:
    Litestar's own check (`check_throttle_handler`) comes after it has built a `Request`, on
    every request of the service, rate-limited or not."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        self.kind = config.store.removesuffix(_STORE_SUFFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if handler is None or handler.opt.get("rate_limit") != self.kind:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def rate_limit_middleware(settings: Settings) -> list[DefineMiddleware]:
    return [
        RateLimitConfig(
            rate_limit=("minute", per_minute),
            store=_store_name(kind),
            middleware_class=_KindRateLimitMiddleware,
        ).middleware
        for kind, per_minute in _limits(settings).items()
        if per_minute > 0
    ]


def rate_limit_stores(settings: Settings) -> dict[str, Store]:
    """Redis stores when `REDIS_URL` is set; none otherwise (Litestar makes memory stores)."""
    if settings.redis_url is None:
        return {}
    database = settings.database_url.render_as_string(hide_password=False).encode()
    service = f"clinic-intake-{hashlib.sha256(database).hexdigest()[:16]}"
    redis = Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), retries=0),
    )
    return {
        _store_name(kind): FailOpenRedisStore(
            redis, namespace=f"{service}-{kind}", handle_client_shutdown=True
        )
        for kind, per_minute in _limits(settings).items()
        if per_minute > 0
    }
