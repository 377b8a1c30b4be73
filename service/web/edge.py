"""The service's edge: one layer around the whole app, so every answer passes the same guards.

Litestar's app-level middleware runs inside each route's own stack. Answers made before a route
is found (the router's 404 and 405) or by the exception handler around that stack (a rate
limit's 429, the CSRF 403) never pass through it. This layer wraps `Litestar.asgi_handler`, the
router inside the app's outermost exception handler, which `Litestar.__call__` runs for every
request, so each response start passes here exactly once. It gives every answer:

- the security headers: no third-party anything, no framing, no sniffing;
- `Cache-Control: no-store`, except static files: patient data (JSON, FHIR, PDF, CSV, pages,
  a form that echoes a patient's answers after an error) must not stay in a browser's or a
  proxy's cache, and a rule with exceptions by route would miss the next route added;
- a request id, from the caller's `X-Request-ID` when it is a plain token (a proxy's or an
  integration's, so their logs and ours can be joined), otherwise made here;
- no `server` header from the app;
- exactly one `request` log line with the method, the path (never the query string), the
  route's template when a route was found, the status and the duration. Nothing a patient typed
  can reach the log through it: no query string, body or header.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import raised_at

log = structlog.get_logger("service.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Static files are the same for everyone and carry no patient data: they keep their caching.
STATIC_PREFIX = "/static/"
_LOGGED_PATH_LENGTH = 200

# Scripts and styles come from this service only, as files: no inline script, no CDN.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
_HSTS = b"strict-transport-security"
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
# Headers of the app's answer that the edge drops (and sets itself, but for `server`).
_REPLACED_STATIC = frozenset({b"server", _REQUEST_ID})
_REPLACED = _REPLACED_STATIC | {b"cache-control"}


def security_headers() -> dict[str, str]:
    """The headers every answer carries; HSTS is added per request, on HTTPS only."""
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    }


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            offered = value.decode("latin-1")
            if _ACCEPTABLE_REQUEST_ID.fullmatch(offered):
                return offered
            break
    return uuid.uuid4().hex


class ServiceEdge:
    """Wraps the app's ASGI handler: `app.asgi_handler = ServiceEdge(app.asgi_handler, ...)`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers().items()
        ]

    def headers_of(
        self, given: Iterable[tuple[bytes, bytes]], request_id: str, *, https: bool, static: bool
    ) -> list[tuple[bytes, bytes]]:
        """An answer's headers as they go out: the app's own security headers kept, the rest
        added; no-store unless static; the request id; no `server`."""
        replaced = _REPLACED_STATIC if static else _REPLACED
        headers = [(name, value) for name, value in given if name.lower() not in replaced]
        present = {name.lower() for name, _ in headers}
        headers += [(name, value) for name, value in self.headers if name not in present]
        if https and _HSTS not in present:
            headers.append((_HSTS, HSTS.encode()))
        if not static:
            headers.append((b"cache-control", b"no-store"))
        headers.append((_REQUEST_ID, request_id.encode("latin-1")))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        started = time.perf_counter()
        status: int | None = None
        static = scope["path"].startswith(STATIC_PREFIX)
        # The scheme as `service.web.proxies` decided it: TLS here, at a trusted proxy, or
        # BEHIND_HTTPS. Browsers ignore HSTS over plain HTTP anyway.
        https = scope["scheme"] == "https"

        async def guarded_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = self.headers_of(
                    message.get("headers", ()), request_id, https=https, static=static
                )
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, guarded_send)
            except Exception as error:  # noqa: BLE001 - the app's own handler failed
                # Litestar's exception handler answers every error; this is for a failure of
                # that handler itself. The class and place only: its text may quote answers.
                log.error(  # noqa: TRY400 - a traceback would carry the error's text
                    "unexpected error outside the app's handler",
                    error=type(error).__name__,
                    where=raised_at(error),
                )
                if status is None:
                    await _plain_error(guarded_send)
            finally:
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"][:_LOGGED_PATH_LENGTH],
                    route=scope.get("path_template", "-"),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )


async def _plain_error(send: Send) -> None:
    body = b"Something went wrong on our side. Please try again.\n"
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
