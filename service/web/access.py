"""Who may call each route, checked on the server for every request.

Every route handler declares its access in `opt`: `PUBLIC`, or `staff(Role...)`. One guard,
applied to the whole app, enforces it and fails closed: a route that declares nothing answers
403 to everyone. Callers are staff signed in with the session cookie, or API tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp
from sqlalchemy.exc import SQLAlchemyError

from service import audit
from service.staff import Principal, Role, active_user, token_by_secret

log = structlog.get_logger(__name__)

ACCESS = "access"
PUBLIC: dict[str, Any] = {ACCESS: "public"}
SESSION_USER = "staff_user_id"
ALL_STAFF = (Role.RECEPTION, Role.DOCTOR, Role.ADMIN)


def staff(*roles: Role) -> dict[str, Any]:
    """`opt` for a route open to these roles only."""
    return {ACCESS: frozenset(roles)}


def allowed_roles(handler: BaseRouteHandler) -> frozenset[Role] | str | None:
    """What the handler declared: "public", a set of roles, or None (nothing: refused)."""
    declared = handler.opt.get(ACCESS)
    if declared == "public" or isinstance(declared, frozenset):
        return declared
    return None


def check_access(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
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


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller of a staff route (the guard has made sure there is one)."""
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Sign in, or send an API token.")
    return principal


class StaffAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Finds the caller: `Authorization: Bearer <token>` first, else the session's staff user.

    It never refuses by itself: anonymous callers pass on as `None` and the guard decides.
    """

    def __init__(self, app: ASGIApp, db: SQLAlchemyAsyncConfig) -> None:
        super().__init__(app, exclude=["^/static/", "^/health$"])
        self.db = db

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        bearer = connection.headers.get("authorization", "")
        session_user = connection.scope.get("session") or {}
        user_id = session_user.get(SESSION_USER) if isinstance(session_user, dict) else None
        if not bearer and not user_id:
            return AuthenticationResult(user=None, auth=None)
        try:
            principal = await self._principal(bearer, user_id, connection)
        except SQLAlchemyError as error:
            log.warning(
                "cannot check credentials: database unavailable", error=type(error).__name__
            )
            principal = None
        return AuthenticationResult(user=principal, auth=None)

    async def _principal(
        self, bearer: str, user_id: object, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        async with self.db.get_session() as session:
            if bearer:
                scheme, _, secret = bearer.partition(" ")
                if scheme.lower() != "bearer" or not secret.strip():
                    return None
                token = await token_by_secret(session, secret.strip())
                if token is None:
                    return None
                token.last_used_at = datetime.now(UTC)
                # Every use of a token is on the record: which token, which route.
                audit.record(
                    session,
                    audit.Actor("token", str(token.id)),
                    "token.used",
                    method=str(connection.scope.get("method", "")),
                    path=connection.scope["path"],
                )
                await session.commit()
                return Principal("token", token.id, Role(token.role), token.name)
            try:
                user = await active_user(session, UUID(str(user_id)))
            except ValueError:
                return None
            if user is None:
                return None
            return Principal("staff", user.id, Role(user.role), user.email)
