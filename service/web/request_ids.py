"""A request id on every log line and response, and one structured line per request.

The id comes from the caller's `X-Request-ID` when it is a plain token (a proxy's or an
integration's, so their logs and ours can be joined), otherwise it is made here. The request
line names the route's template (`/api/v1/intakes/{intake_id:uuid}`), never the query string,
the body or a header: nothing a patient typed can reach the log through it.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("service.requests")

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            offered = value.decode("latin-1")
            if _ACCEPTABLE.fullmatch(offered):
                return offered
            break
    return uuid.uuid4().hex


class RequestIdMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = request_id_of(scope)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await next_app(scope, receive, send_with_id)
            finally:
                log.info(
                    "request",
                    method=scope.get("method"),
                    route=scope.get("path_template", "-"),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )
