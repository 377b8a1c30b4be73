"""Per-address limits on intake submissions and login attempts (Litestar's rate limiter).

A handler opts in with `opt={"rate_limit": "intake"}` or `"login"`; each kind has its own store,
so the two budgets never mix. A limit of 0 turns that limiter off (load tests).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.types import Middleware

from service.settings import Settings


def _only(kind: str) -> Any:
    # A coroutine function: Litestar would run a plain function in a worker thread, a thread
    # hop on every request of the service, rate-limited or not.
    async def applies(request: Request[Any, Any, Any]) -> bool:
        return bool(request.route_handler.opt.get("rate_limit") == kind)

    return applies


def rate_limit_middleware(settings: Settings) -> list[Middleware]:
    limits = {
        "intake": settings.intake_rate_limit_per_minute,
        "login": settings.login_rate_limit_per_minute,
    }
    return [
        RateLimitConfig(
            rate_limit=("minute", per_minute),
            check_throttle_handler=_only(kind),
            store=f"{kind}_rate_limit",
        ).middleware
        for kind, per_minute in limits.items()
        if per_minute > 0
    ]
