"""The audit trail for admins: read it, and export it as CSV. Nothing here edits or deletes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.audit_export import events_csv, recent_events
from service.clinic import Clinic
from service.queue import day_bounds
from service.staff import Role
from service.web.access import principal_of, staff
from service.web.pages.staff_layout import staff_context

DayParameter = Annotated[date | None, QueryParameter(name="date", description="Clinic-local day")]


def _bounds(day: date | None, clinic: Clinic) -> tuple[datetime | None, datetime | None]:
    return day_bounds(day, clinic.timezone) if day else (None, None)


@get("/staff/audit", operation_id="auditPage", include_in_schema=False, opt=staff(Role.ADMIN))
async def audit_page(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    date_: DayParameter = None,
) -> Template:
    since, until = _bounds(date_, clinic)
    events = await recent_events(db_session, since=since, until=until, limit=200)
    audit.record(db_session, principal_of(request).actor, "audit.viewed", rows=len(events))
    await db_session.commit()
    context = staff_context(clinic, request, events=events, day=date_)
    return Template("staff/audit.html", context=context)


@get("/staff/audit.csv", operation_id="auditCsv", include_in_schema=False, opt=staff(Role.ADMIN))
async def audit_csv(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    date_: DayParameter = None,
) -> Response[str]:
    since, until = _bounds(date_, clinic)
    if since is None:
        since = datetime.now(UTC) - timedelta(days=31)
    events = await recent_events(db_session, since=since, until=until, limit=100_000)
    audit.record(db_session, principal_of(request).actor, "audit.exported", rows=len(events))
    await db_session.commit()
    name = f"audit-{(date_ or clinic.today(datetime.now(UTC))).isoformat()}.csv"
    return Response(
        events_csv(events),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
