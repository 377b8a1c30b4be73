"""A staff member's own sessions: where they are signed in, and ending the ones they left.

Only one's own: every query here is by the signed-in user's id, so no id typed into a form can
end somebody else's session (it is simply not found).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_404_NOT_FOUND
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.codes import SessionEnd
from service.staff.sessions import (
    SessionLimits,
    active_sessions,
    by_id,
    end_sessions,
    of_user,
)
from service.web.access import ALL_STAFF, principal_of, session_of, staff
from service.web.dependencies import AppSettings
from service.web.error_pages import error_page
from service.web.pages.staff_layout import staff_context

SESSIONS_PAGE = "/staff/sessions"


@get(SESSIONS_PAGE, operation_id="sessionsPage", include_in_schema=False, opt=staff(*ALL_STAFF))
async def sessions_page(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
) -> Template:
    """An API token has no sessions: its list is empty."""
    principal = principal_of(request)
    current = session_of(request)
    limits = SessionLimits.of(settings)
    now = datetime.now(UTC)
    sessions = await active_sessions(db_session, principal.id, limits, now) if current else []
    context = staff_context(
        clinic,
        request,
        sessions=sessions,
        current_id=current.id if current else None,
        idle_minutes=settings.session_idle_minutes,
        absolute_hours=settings.session_absolute_hours,
    )
    return Template("staff/sessions.html", context=context)


@post(
    f"{SESSIONS_PAGE}/{{session_id:uuid}}/end",
    operation_id="endSession",
    include_in_schema=False,
    opt=staff(*ALL_STAFF),
)
async def end_session(
    request: Request[Any, Any, Any],
    session_id: FromPath[UUID],
    db_session: NamedDependency[AsyncSession],
) -> Response[Any]:
    principal = principal_of(request)
    ended = await end_sessions(
        db_session,
        SessionEnd.ENDED_BY_OWNER,
        principal.actor,
        datetime.now(UTC),
        by_id(session_id),
        of_user(principal.id),
    )
    if not ended:  # not one of theirs, or over already: the same answer for both
        return error_page(request, HTTP_404_NOT_FOUND)
    await db_session.commit()
    return Redirect(SESSIONS_PAGE, status_code=HTTP_303_SEE_OTHER)


@post(
    f"{SESSIONS_PAGE}/end-others",
    operation_id="endOtherSessions",
    include_in_schema=False,
    opt=staff(*ALL_STAFF),
)
async def end_other_sessions(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
) -> Redirect:
    """Sign out everywhere else: every session of the caller's but this one."""
    principal = principal_of(request)
    current = session_of(request)
    if current is not None:
        await end_sessions(
            db_session,
            SessionEnd.ENDED_BY_OWNER,
            principal.actor,
            datetime.now(UTC),
            of_user(principal.id, but=current.id),
        )
        await db_session.commit()
    return Redirect(SESSIONS_PAGE, status_code=HTTP_303_SEE_OTHER)
