"""Unsafe requests that carry cookies must come from the service's own pages.

A browser attaches this service's cookies to a request another site makes it send. SameSite=Lax
and the CSRF token stand in the way of forms, but the API is exempt from CSRF tokens (programs
call it with bearer tokens), so a signed-in receptionist's browser could be made to move a
patient in the queue from anywhere. Browsers say where a request comes from: `Origin` on every
POST they send, `Sec-Fetch-Site` in all current ones. So a POST, PUT, PATCH or DELETE with any
cookie must have an `Origin` equal to the service's own, or else a `Sec-Fetch-Site` of
`same-origin` or `none`. A request with neither header does not come from a browser that could
be misled, and passes; one without cookies has no session to misuse (bearer-token clients).

Our pages send `Referrer-Policy: same-origin`, so browsers name our origin on our own forms
(under `no-referrer` they send `Origin: null`). A `null` Origin (a privacy setting, a sandboxed
frame) counts as no Origin, and `Sec-Fetch-Site` decides; browsers send that to https addresses
and localhost only, so a null Origin without it is refused.

The service's own origin is `PUBLIC_BASE_URL` when it is set; otherwise the request's own scheme
(as the ASGI server, or a trusted proxy's `X-Forwarded-Proto` before this runs, set it) and
`Host`. Any cookie counts, whatever its name: the check must not depend on the session cookie's.

A Litestar middleware, first of the app's: it runs before the session, the rate limits and the
CSRF check, and its refusal is answered by the app's exception handler like any other 403
(problem details on `/api/`, the "reload the page" page for people).
"""

from __future__ import annotations

import structlog
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import HTTP_403_FORBIDDEN
from litestar.types import ASGIApp, Receive, Scope, Send

from service.origin import Origin, parse_origin

log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SAME_ORIGIN_FETCH_SITES = frozenset({"same-origin", "none"})
# Sent under `Referrer-Policy: no-referrer` and by privacy settings; then `Sec-Fetch-Site` tells.
OPAQUE_ORIGIN = "null"


class SameOriginMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, *, public_base_url: str | None) -> None:
        self.public_origin = parse_origin(public_base_url) if public_base_url else None

    def own_origin(self, scope: Scope, host: str | None) -> Origin | None:
        if self.public_origin is not None:
            return self.public_origin
        return parse_origin(f"{scope['scheme']}://{host}") if host else None

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] not in SAFE_METHODS:
            headers = _headers(scope, {b"cookie", b"origin", b"sec-fetch-site", b"host"})
            if headers.get(b"cookie") and (refused := self.refusal(scope, headers)):
                log.warning("cross-site request refused", checked=refused)
                # Not a problem() exception: that would answer pages with JSON too.
                raise HTTPException(
                    status_code=HTTP_403_FORBIDDEN,
                    detail="This request came from another site, so it was refused. "
                    "Nothing was stored.",
                )
        await next_app(scope, receive, send)

    def refusal(self, scope: Scope, headers: dict[bytes, str]) -> str | None:
        """Which header showed the request to come from elsewhere; None when none did."""
        origin = headers.get(b"origin")
        fetch_site = headers.get(b"sec-fetch-site")
        if origin is not None and origin.strip() != OPAQUE_ORIGIN:
            own = self.own_origin(scope, headers.get(b"host"))
            return None if own is not None and parse_origin(origin) == own else "origin"
        if fetch_site is not None:
            same = fetch_site.strip().lower() in SAME_ORIGIN_FETCH_SITES
            return None if same else "sec-fetch-site"
        # `Origin: null` and nothing else: a browser that will not say where this came from.
        return "origin" if origin is not None else None


def _headers(scope: Scope, names: set[bytes]) -> dict[bytes, str]:
    """The first value of each of `names` the request carries."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in names and name not in found:
            found[name] = value.decode("latin-1")
    return found
