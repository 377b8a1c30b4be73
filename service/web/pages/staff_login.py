"""Staff sign-in and sign-out, on the session cookie; CSRF-protected like every form."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_401_UNAUTHORIZED
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.control_characters import has_control_characters
from service.intake import Clinic
from service.staff import authenticate
from service.web.access import ALL_STAFF, PUBLIC, SESSION_USER, principal_of, staff
from service.web.i18n import gettext_for

HOME = "/staff/queue"
NO_STORE = {"Cache-Control": "no-store"}


def staff_context(clinic: Clinic, request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    """The staff pages are in English, the clinic's working language."""
    user = request.scope.get("user")
    return {
        "lang": "en",
        "_": gettext_for("en"),
        "clinic_name": clinic.name,
        "clinic_tz": clinic.timezone,
        "user": user,
        **extra,
    }


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
    return Template("staff/login.html", context=context, headers=NO_STORE)


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
) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")[:1024]
    target = _safe_next(str(form.get("next") or ""))
    user, account = await authenticate(db_session, email, password, datetime.now(UTC))
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
        return Template(
            "staff/login.html", context=context, status_code=HTTP_401_UNAUTHORIZED, headers=NO_STORE
        )
    audit.record(db_session, audit.Actor("staff", str(user.id)), "login.succeeded")
    await db_session.commit()
    # A fresh session: nothing from before sign-in carries over.
    request.set_session({SESSION_USER: str(user.id)})
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)


@post("/staff/logout", operation_id="staffLogout", include_in_schema=False, opt=staff(*ALL_STAFF))
async def logout(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
) -> Redirect:
    audit.record(db_session, principal_of(request).actor, "logout")
    await db_session.commit()
    request.clear_session()
    return Redirect("/staff/login", status_code=HTTP_303_SEE_OTHER)
