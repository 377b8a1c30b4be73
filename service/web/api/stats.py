"""`GET /api/v1/stats`: the clinic dashboard's figures, for doctors and admins (audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.settings import Settings
from service.staff import Role
from service.stats import MAX_DAYS, RangeError, clinic_figures
from service.web.access import audit_read
from service.web.api.openapi import staff_operation
from service.web.dependencies import AppSettings
from service.web.problems import FieldError, problem

First = Annotated[
    date | None,
    QueryParameter(
        name="from", description="First clinic-local day, YYYY-MM-DD; default: 29 days before `to`"
    ),
]
Last = Annotated[
    date | None,
    QueryParameter(name="to", description="Last clinic-local day, included; default today"),
]


class Counts(msgspec.Struct):
    total: int
    by_priority: dict[str, int]


class Waits(msgspec.Struct):
    count: int
    median_minutes: float | None
    p90_minutes: float | None
    over_threshold: int


class DayCounts(msgspec.Struct):
    date: str
    total: int
    by_priority: dict[str, int]


class Stats(msgspec.Struct, rename={"first": "from", "last": "to"}):
    """Counts of the intakes submitted in the range, by effective level (the doctor's override
    when there is one); `seen`: minutes from submission to the move to `with_doctor`, of the
    intakes seen; `red_flags`: each rule's current (not superseded) flags."""

    first: str
    last: str
    timezone: str
    intakes: Counts
    outcomes: dict[str, int]
    seen: dict[str, Waits]
    red_flags: dict[str, int]
    days: list[DayCounts]


@get(
    "/api/v1/stats",
    operation_id="getStats",
    tags=["staff"],
    summary="The clinic dashboard's figures for a range of days",
    **staff_operation(
        [Role.DOCTOR, Role.ADMIN],
        400,
        422,
        described={
            422: f"A date that is not YYYY-MM-DD, `from` after `to`, or over {MAX_DAYS} days"
        },
    ),
)
async def stats(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    first: First = None,
    last: Last = None,
) -> Stats:
    """Clinic-local days, both included; by default the last 30 days. Each read is audited as
    `stats.viewed`."""
    figured = await stats_figures(db_session, clinic, settings, first, last)
    await audit_read(
        db_session, request, "stats.viewed", None, days=f"{figured.first}/{figured.last}"
    )
    return figured


async def stats_figures(
    session: AsyncSession, clinic: Clinic, settings: Settings, first: date | None, last: date | None
) -> Stats:
    """The figures of the range asked for, or a 422 naming the parameter at fault."""
    try:
        document = await clinic_figures(
            session, clinic, settings.long_wait_minutes, first, last, datetime.now(UTC)
        )
    except RangeError as wrong:
        raise problem(
            HTTP_422_UNPROCESSABLE_ENTITY, str(wrong), errors=[FieldError(wrong.field, str(wrong))]
        ) from None
    return msgspec.convert(document, Stats)
