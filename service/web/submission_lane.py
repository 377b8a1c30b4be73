"""The common submission, `POST /api/v1/intakes` with a plain JSON body, ahead of the router.

A patient's intake is the one request that comes in bursts (a waiting room filling in the form
at once), and the framework's per-request path (the route's five middlewares, the guard, the
dependency, the body's second decode) cost more than the validation, triage and durable write
together. This lane takes the ordinary submission (anonymous, no cookie, no Idempotency-Key, a
JSON body of a stated length within the limit that decodes to `IntakeSubmission`) and answers
it with the route handler's own function (`answer_submission`), Litestar's response handler of
that route, its exception handlers and its rate limiter: the answer, the stored rows, the audit
event and every error are those of the route. Everything else goes on to the router untouched,
its body handed on as it was read, so the route answers what the lane left (a bad body, a key,
a token to record, a browser's cookie for the same-origin check) exactly as before.

It sits inside the trusted-proxy rules and the service edge (`create_app`), so the client
address the rate limit counts, the security headers, the request id and the request log line
are the same for both. It refuses to start if the route gains what it does not do
(`_check_route`). Two differences are left, both about the rate limit: the lane reads the body
(at most 64 KiB) before counting the request, where the route counts first; and its limiter is
an instance of its own over the same store, so a lane request and a routed one from one address
at the same instant can both be counted as the same number (the store has no atomic
increment), letting one extra request through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from litestar._asgi.utils import is_valid_host
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.middleware._internal.exceptions import ExceptionHandlerMiddleware
from litestar.utils.scope.state import ScopeState

from service.web.access import ACCESS, ANONYMOUS, guard
from service.web.api.bodies import json_only
from service.web.api.intakes import IntakeSubmission, answer_submission
from service.web.inputs import MAX_BODY

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.middleware import DefineMiddleware
    from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

    from service.intake import IntakeSubmissions

PATH = "/api/v1/intakes"
_JSON = frozenset({b"application/json", b"application/json; charset=utf-8"})
# A request with any of these goes to the router: a token's use is recorded there, a cookie
# means a browser (the same-origin check), a key means a lookup and maybe a replay.
_ROUTED = frozenset({b"authorization", b"cookie", b"idempotency-key", b"transfer-encoding"})
_SUBMISSION = "submission_lane.submission"
_LENGTH_DIGITS = len(str(MAX_BODY))
_DECODER = msgspec.json.Decoder(IntakeSubmission, strict=True)


class SubmissionLane:
    """`app.asgi_handler = SubmissionLane(app.asgi_handler, app, submissions, rate_limits)`."""

    def __init__(
        self,
        app: ASGIApp,
        litestar: Litestar,
        submissions: IntakeSubmissions,
        rate_limits: list[DefineMiddleware],
    ) -> None:
        self.app = app
        self.submissions = submissions
        _, handler, _, _, template = litestar.asgi_router.handle_routing(path=PATH, method="POST")
        if not isinstance(handler, HTTPRouteHandler):
            raise TypeError(f"POST {PATH} is not an HTTP route")
        _check_route(handler)
        self.handler = handler
        self.path_template = template
        self.exception_handlers = handler.resolve_exception_handlers()
        self.request_class = handler.resolve_request_class()
        self.response_handler = handler.get_response_handler(is_response_type_data=True)
        # As in the route's own stack: an exception handler around the answer, inside the rate
        # limiters (so a 422 carries their RateLimit headers), and one outside them for their
        # 429 (the app's, on the route's way).
        inner: ASGIApp = ExceptionHandlerMiddleware(app=self._answer, debug=None)
        for limiter in rate_limits:
            inner = limiter(app=inner)
        self.stack = ExceptionHandlerMiddleware(app=inner, debug=None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._may_take(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        try:
            submission = None if body is None else _DECODER.decode(body)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            submission = None
        if submission is None:
            await self.app(scope, _replaying(messages, receive), send)
            return
        # What the router and the route's middleware would have left in the scope.
        scope["route_handler"] = self.handler
        scope["path_template"] = self.path_template
        scope["path_params"] = {}
        scope["user"] = scope["auth"] = None
        scope["state"][_SUBMISSION] = submission
        ScopeState.from_scope(scope).exception_handlers = self.exception_handlers
        await self.stack(scope, _replaying(messages, receive), send)

    def _may_take(self, scope: Scope) -> bool:
        if (
            scope["type"] != ScopeType.HTTP
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope.get("root_path")
        ):
            return False
        length = content_type = None
        for name, value in scope["headers"]:
            if name in _ROUTED:
                return False
            if name == b"content-length":
                if length is not None:
                    return False  # a second one: the route decides what that means
                length = value
            elif name == b"content-type":
                if content_type is not None:
                    return False
                content_type = value.lower()
            elif name == b"host" and not is_valid_host(value):
                return False
        return (
            content_type in _JSON
            and length is not None
            and 0 < len(length) <= _LENGTH_DIGITS
            and length.isdigit()
            and int(length) <= MAX_BODY
        )

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        submission: IntakeSubmission = scope["state"].pop(_SUBMISSION)
        response = await answer_submission(self.submissions, submission, None)
        request = self.request_class(scope=scope, receive=receive, send=send)
        answer = await self.response_handler(
            app=scope["litestar_app"], data=response, request=request
        )  # type: ignore[call-arg]
        await answer(scope, receive, send)


def _check_route(handler: HTTPRouteHandler) -> None:
    """Refuse to start when the route has gained something the lane does not do: the lane
    would answer without it."""
    expected = {
        "guards": ([guard], handler.resolve_guards()),
        "before_request": (json_only, handler.resolve_before_request()),
        "after_response": (None, handler.resolve_after_response()),
        "request_max_body_size": (MAX_BODY, handler.resolve_request_max_body_size()),
        "rate limit kind": ("intake", handler.opt.get("rate_limit")),
        "access": ("public", handler.opt.get(ACCESS)),
        "anonymous": (True, handler.opt.get(ANONYMOUS)),
    }
    changed = [name for name, (lane, route) in expected.items() if lane != route]
    if changed or handler.cache or handler.resolve_data_dto() or handler.resolve_return_dto():
        raise RuntimeError(
            f"POST {PATH} has changed ({', '.join(changed) or 'cache or DTO'}): "
            "service/web/submission_lane.py must do the same before it may answer for it"
        )


async def _read_body(receive: Receive) -> tuple[list[ReceiveMessage], bytes | None]:
    """The messages read, and the body they make (None: the client left, or sent too much)."""
    messages: list[ReceiveMessage] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return messages, None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replaying(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    """A `receive` that hands on the messages already read, then the client's own."""
    pending = list(messages)

    async def replay() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
