"""Per-address limits on intake submissions and login attempts (Litestar's rate limiter).

A handler opts in with `opt={"rate_limit": "intake"}` or `"login"`; each kind has its own store,
so the two budgets never mix. A limit of 0 turns that limiter off (load tests). The address is
`scope["client"]`, as `service.web.proxies` decided it from `TRUSTED_PROXIES`.

One process counts in its memory. With `REDIS_URL` the counts live in Redis, so every worker
process adds to the same budget (`WORKERS` above 1 requires it). Their keys are prefixed by a
digest of the database URL: two services that share a Redis but not a database (a staging copy,
each test) do not share budgets.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import Middleware

from service.settings import Settings


def _limits(settings: Settings) -> dict[str, int]:
    """Per kind, how many requests one address may make a minute (0: not limited)."""
    return {
        "intake": settings.intake_rate_limit_per_minute,
        "login": settings.login_rate_limit_per_minute,
    }


def _store_name(kind: str) -> str:
    return f"{kind}_rate_limit"


def _only(kind: str) -> Any:
    # A coroutine function: Litestar would run a plain function in a worker thread, a thread
    # hop on every request of the service, rate-limited or not.
    async def applies(request: Request[Any, Any, Any]) -> bool:
        return bool(request.route_handler.opt.get("rate_limit") == kind)

    return applies


def rate_limit_middleware(settings: Settings) -> list[Middleware]:
    return [
        RateLimitConfig(
            rate_limit=("minute", per_minute),
            check_throttle_handler=_only(kind),
            store=_store_name(kind),
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
    return {
        _store_name(kind): RedisStore.with_client(settings.redis_url, namespace=f"{service}-{kind}")
        for kind, per_minute in _limits(settings).items()
        if per_minute > 0
    }
