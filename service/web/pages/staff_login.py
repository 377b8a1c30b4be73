"""Staff sign-in and sign-out: a session row on the server, its random id in the cookie.

Sign-in also issues a fresh CSRF token, bound to the new session (service.web.access): a token
from before sign-in opens nothing afterwards. Sign-out ends the row, so a saved copy of the
cookie is refused from then on, on every worker.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.middleware.csrf import generate_csrf_token
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_401_UNAUTHORIZED
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.clinic import Clinic
from service.codes import SessionEnd
from service.control_characters import has_control_characters
from service.staff import authenticate
from service.staff.sessions import by_id, describe_browser, end_sessions, open_session
from service.web.access import ALL_STAFF, PUBLIC, principal_of, session_of, staff
from service.web.cookies import csrf_cookie, staff_session_cookie
from service.web.dependencies import AppSettings
from service.web.pages.staff_layout import staff_context

HOME = "/staff/queue"


def _safe_next(target: str | None) -> str:
    # Only back into the staff pages: never an open redirect to another site.
    if (
        target
        and target.startswith("/staff/")
        and "//" not in target
        and "\\" not in target
        and not has_control_characters(target)
    ):
        return target
    return HOME


@get("/staff/login", operation_id="staffLoginForm", include_in_schema=False, opt=PUBLIC)
async def login_form(
    request: Request[Any, Any, Any],
    clinic: NamedDependency[Clinic],
    next_: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Template:
    context = staff_context(clinic, request, next=_safe_next(next_), failed=False)
    return Template("staff/login.html", context=context)


@post(
    "/staff/login",
    operation_id="staffLogin",
    include_in_schema=False,
    opt={**PUBLIC, "rate_limit": "login"},
)
async def login(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")[:1024]
    target = _safe_next(str(form.get("next") or ""))
    now = datetime.now(UTC)
    user, account = await authenticate(db_session, email, password, now)
    if user is None:
        # The same words for every failure: nobody learns which emails have accounts.
        if account is not None:
            audit.record(db_session, audit.Actor("staff", str(account.id)), "login.failed")
        else:
            # No account: keep a fingerprint of what was typed, not the address itself.
            typed = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
            audit.record(db_session, audit.Actor("staff"), "login.failed", email_sha256=typed)
        await db_session.commit()
        context = staff_context(clinic, request, next=target, failed=True, email=email)
        return Template("staff/login.html", context=context, status_code=HTTP_401_UNAUTHORIZED)
    # A fresh session and a fresh CSRF token: nothing from before sign-in carries over.
    csrf = request.app.csrf_config
    if csrf is None:
        raise RuntimeError("staff sign-in needs the app's CSRF protection")
    csrf_token = generate_csrf_token(csrf.secret)
    browser = describe_browser(request.headers.get("user-agent", ""))
    session, secret = await open_session(db_session, user, csrf_token, browser, now)
    audit.record(
        db_session,
        audit.Actor("staff", str(user.id)),
        "login.succeeded",
        session_id=str(session.id),
    )
    await db_session.commit()
    cookies = [
        staff_session_cookie(secret, behind_https=settings.behind_https),
        csrf_cookie(csrf, csrf_token),
    ]
    return Redirect(target, status_code=HTTP_303_SEE_OTHER, cookies=cookies)


@post("/staff/logout", operation_id="staffLogout", include_in_schema=False, opt=staff(*ALL_STAFF))
async def logout(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    settings: AppSettings,
) -> Redirect:
    principal = principal_of(request)
    audit.record(db_session, principal.actor, "logout")
    if session := session_of(request):
        now = datetime.now(UTC)
        ended = by_id(session.id)
        await end_sessions(db_session, SessionEnd.SIGNED_OUT, principal.actor, now, ended)
    await db_session.commit()
    return Redirect(
        "/staff/login",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[staff_session_cookie(None, behind_https=settings.behind_https)],
    )
