"""Who may call each route, checked on the server for every request.

Every route handler declares its access in `opt`: `PUBLIC`, or `staff(Role...)`. A staff
route that a page calls by itself, with nobody at the screen (the live queue's stream and its
row reloads), says so with `staff(..., session_use=False)`: it checks the session but is not
its use, so a screen left open still reaches the idle limit. One guard,
applied to the whole app, enforces it and fails closed: a route that declares nothing answers
403 to everyone. Callers are staff signed in with the session cookie (a live row of
`staff_session`, looked up on every request), or API tokens. A second guard binds forms to the
session: an unsafe staff request must carry the CSRF token issued when that session began.

Every use of an API token is on the audit trail, committed before the answer goes out: with an
audited read's own event (`audit_read`, one commit for both), or else just before the answer
starts, whatever its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from hmac import compare_digest
from typing import Any
from uuid import UUID

import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState
from sqlalchemy import bindparam, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.models import ApiToken
from service.staff import Principal, Role, hash_token, token_by_secret
from service.staff.sessions import LiveSession, SessionKeeper, by_secret

log = structlog.get_logger(__name__)

ACCESS = "access"
SESSION_USE = "session_use"  # False on routes a page calls by itself: not a person's use
PUBLIC: dict[str, Any] = {ACCESS: "public"}
ANONYMOUS = "anonymous"
"""`opt` key of a public route that never asks who calls (the public API): a request to it
without an API token passes the staff authentication middleware with no cookie parsed and no
session looked up. A token is still looked up, so its use is on the trail wherever it is sent."""
ALL_STAFF = (Role.RECEPTION, Role.DOCTOR, Role.ADMIN)
_SCOPE_KEY = "api_token_use"  # where the request's TokenUse waits, in its scope state
# The statuses whose changes the session's autocommit keeps (`autocommit_include_redirects`).
COMMITTED_STATUSES = range(200, 400)


def staff(*roles: Role, session_use: bool = True) -> dict[str, Any]:
    """`opt` for a route open to these roles only. `session_use=False`: the page calls it by
    itself, so a staff session is checked but its last use is left alone."""
    return {ACCESS: frozenset(roles), SESSION_USE: session_use}


def counts_as_use(handler: BaseRouteHandler) -> bool:
    """Whether a request to this handler is a person using their session."""
    return handler.opt.get(SESSION_USE) is not False


def allowed_roles(handler: BaseRouteHandler) -> frozenset[Role] | str | None:
    """What the handler declared: "public", a set of roles, or None (nothing: refused)."""
    declared = handler.opt.get(ACCESS)
    if declared == "public" or isinstance(declared, frozenset):
        return declared
    return None


async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app's one guard: the route's access, then the session's CSRF token. One guard, not
    two: Litestar hands each guard a copy of the route handler, made on every request."""
    await check_access(connection, handler)
    await check_session_csrf(connection, handler)


async def check_access(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    # A coroutine function although it awaits nothing: Litestar runs a plain function guard in
    # a worker thread, a thread hop on every request.
    declared = allowed_roles(handler)
    if declared == "public":
        return
    principal = connection.scope.get("user")
    if declared is None:
        raise PermissionDeniedException("This route declares no access.")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Sign in, or send an API token.")
    if principal.role not in declared:
        raise PermissionDeniedException("Your role does not allow this.")


async def check_session_csrf(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """An unsafe staff request made with a session must carry that session's CSRF token.

    Litestar's CSRF middleware has already checked that the form's token matches the CSRF
    cookie (and left the token it accepted in the scope); that proves the request came from a
    page of ours, but the cookie itself could be any valid one: from before sign-in, or planted.
    Sign-in issues a fresh token and keeps its hash in the session's row, so a token from
    before sign-in, or from another session, is refused here. Public routes are left alone, so
    a browser whose CSRF cookie went missing can always sign in again.
    """
    session = session_of(connection)
    if session is None or allowed_roles(handler) == "public":
        return
    config = connection.app.csrf_config
    if config is None or connection.scope.get("method") in config.safe_methods:
        return
    accepted = ScopeState.from_scope(connection.scope).csrf_token
    if accepted is Empty:
        return  # a route the CSRF middleware exempts: the API, which takes no form tokens
    if not compare_digest(hash_token(str(accepted)), session.csrf_hash):
        raise PermissionDeniedException("CSRF token verification failed: not this session's")


def session_of(connection: ASGIConnection[Any, Any, Any, Any]) -> LiveSession | None:
    """The caller's staff session, if they came with one (not with an API token)."""
    session = connection.scope.get("auth")
    return session if isinstance(session, LiveSession) else None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller of a staff route (the guard has made sure there is one)."""
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Sign in, or send an API token.")
    return principal


@dataclass
class TokenUse:
    """One request made with an API token, until its `token.used` event is committed."""

    token_id: UUID
    method: str
    path: str
    recorded: bool = False


def _pending_token_use(scope: Scope) -> TokenUse | None:
    use = scope.get("state", {}).get(_SCOPE_KEY)
    return use if isinstance(use, TokenUse) and not use.recorded else None


# The token's last use, kept on the token as well as on the trail.
_TOKEN_USED = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("at"))
)


async def _write_with_token_use(
    session: AsyncSession, use: TokenUse | None, *events: audit.Event
) -> None:
    """The events, after the token's use (which token, which route) when there is one."""
    if use is not None:
        connection = await session.connection()
        await connection.execute(_TOKEN_USED, {"token_id": use.token_id, "at": datetime.now(UTC)})
        used = audit.Event(
            audit.Actor("token", str(use.token_id)),
            "token.used",
            detail={"method": use.method, "path": use.path},
        )
        events = (used, *events)
    await audit.write(session, *events)


async def audit_read(
    session: AsyncSession,
    connection: ASGIConnection[Any, Any, Any, Any],
    action: str,
    intake_id: UUID | None = None,
    **detail: audit.Detail,
) -> None:
    """Put a staff read on the audit trail and commit it, before the answer goes out.

    The caller's token use, if any, goes into the same transaction just before it: one commit
    for the two events instead of two.
    """
    use = _pending_token_use(connection.scope)
    read = audit.Event(principal_of(connection).actor, action, intake_id, detail)
    await _write_with_token_use(session, use, read)
    await session.commit()
    if use is not None:
        use.recorded = True


class StaffAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Finds the caller: `Authorization: Bearer <token>` first, else the session cookie's live
    session (its `LiveSession` goes to `scope["auth"]`).

    It never refuses by itself: anonymous callers pass on as `None` and the guard decides. A
    cookie whose session has ended is such a caller: 401 on the API, the sign-in page on pages.
    """

    def __init__(
        self, app: ASGIApp, db: SQLAlchemyAsyncConfig, sessions: SessionKeeper, cookie: str
    ) -> None:
        super().__init__(app, exclude=["^/static/", "^/health$"])
        self.db = db
        self.sessions = sessions
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not any(name == b"authorization" for name, _ in scope.get("headers", ())):
            # No token, so no token use to record: the answer goes out as it is.
            if scope["route_handler"].opt.get(ANONYMOUS):
                scope["user"] = scope["auth"] = None
                await self.app(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
            return

        async def send_after_token_use(message: Message) -> None:
            if message["type"] == "http.response.start":
                use = _pending_token_use(scope)
                if use is not None:
                    await self._record_before_answer(scope, use, message["status"])
            await send(message)

        await super().__call__(scope, receive, send_after_token_use)

    async def _record_before_answer(self, scope: Scope, use: TokenUse, status: int) -> None:
        """The token use the handler did not commit with a read of its own: in the request's
        session, decided as its autocommit would (kept for 2xx and 3xx, else rolled back), so
        a refused request stores nothing but the use of the token. A failure here raises, and
        the answer never goes out."""
        session = self.db.provide_session(scope["litestar_app"].state, scope)
        if status not in COMMITTED_STATUSES:
            await session.rollback()
        await _write_with_token_use(session, use)
        await session.commit()
        use.recorded = True

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        bearer = connection.headers.get("authorization", "")
        secret = "" if bearer else connection.cookies.get(self.cookie, "")
        if not bearer and not secret:
            return AuthenticationResult(user=None, auth=None)
        try:
            if bearer:
                return AuthenticationResult(user=await self._token(bearer, connection), auth=None)
            session = await self.sessions.find(
                by_secret(secret), datetime.now(UTC), use=counts_as_use(connection.route_handler)
            )
        except SQLAlchemyError as error:
            log.warning(
                "cannot check credentials: database unavailable", error=type(error).__name__
            )
            return AuthenticationResult(user=None, auth=None)
        if session is None:
            return AuthenticationResult(user=None, auth=None)
        user = session.user
        return AuthenticationResult(
            user=Principal("staff", user.id, Role(user.role), user.email), auth=session
        )

    async def _token(
        self, bearer: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        scheme, _, secret = bearer.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        async with self.db.get_session() as session:
            token = await token_by_secret(session, secret.strip())
            if token is None:
                return None
            # Recorded with the request's audited read, or before its answer starts.
            use = TokenUse(
                token.id, str(connection.scope.get("method", "")), connection.scope["path"]
            )
            connection.scope.setdefault("state", {})[_SCOPE_KEY] = use
            if connection.scope["type"] != ScopeType.HTTP:
                await _write_with_token_use(session, use)
                await session.commit()
                use.recorded = True
            return Principal("token", token.id, Role(token.role), token.name)
