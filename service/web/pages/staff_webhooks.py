"""Webhooks for admins: the registered endpoints, and recent deliveries with every attempt."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.clinic import Clinic
from service.staff import Role
from service.web.access import principal_of, staff
from service.web.pages.staff_layout import staff_context
from service.webhooks import DeliveryStatus, list_endpoints, recent_deliveries

RECENT = 100


@get("/staff/webhooks", operation_id="webhooksPage", include_in_schema=False, opt=staff(Role.ADMIN))
async def webhooks_page(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    status: FromQuery[DeliveryStatus | None] = None,
) -> Template:
    """Dead deliveries are the ones to act on: `python -m service webhooks retry ID`."""
    endpoints = await list_endpoints(db_session)
    deliveries = await recent_deliveries(db_session, status, limit=RECENT)
    audit.record(db_session, principal_of(request).actor, "webhooks.viewed", rows=len(deliveries))
    await db_session.commit()
    context = staff_context(
        clinic,
        request,
        endpoints=endpoints,
        deliveries=deliveries,
        status=status,
        statuses=list(DeliveryStatus),
    )
    return Template("staff/webhooks.html", context=context)
