"""The clinic dashboard for doctors and admins: a range of days, four charts drawn on the
server with a table of the same numbers beside each, and a CSV of the figures. Every view and
download is on the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import QueryParameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.intake import rules_in_force
from service.settings import Settings
from service.staff import Role
from service.stats import RangeError, clinic_figures, figures_csv
from service.web.access import audit_read, staff
from service.web.dependencies import AppSettings
from service.web.pages.dashboard_charts import bars_chart, days_chart, waits_chart
from service.web.pages.staff_layout import LEVEL_LABELS, staff_context

FromDay = Annotated[
    str | None, QueryParameter(name="from", description="First clinic-local day, YYYY-MM-DD")
]
ToDay = Annotated[str | None, QueryParameter(description="Last clinic-local day, YYYY-MM-DD")]
ACCESS = staff(Role.DOCTOR, Role.ADMIN)


def _day(field: str, text: str | None) -> date | None:
    """A day from the form: blank is no day; anything but YYYY-MM-DD is the person's mistake."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RangeError(field, f"Choose the {field} day as YYYY-MM-DD.") from None


async def _figures(
    session: AsyncSession, clinic: Clinic, settings: Settings, first: str | None, last: str | None
) -> dict[str, Any]:
    return await clinic_figures(
        session,
        clinic,
        settings.long_wait_minutes,
        _day("from", first),
        _day("to", last),
        datetime.now(UTC),
    )


def presets(today: date) -> list[tuple[str, date, date]]:
    """The ranges one click away: (name, first, last)."""
    return [
        ("Last 7 days", today - timedelta(days=6), today),
        ("Last 30 days", today - timedelta(days=29), today),
        ("This month", today.replace(day=1), today),
    ]


@get("/staff/dashboard", operation_id="dashboardPage", include_in_schema=False, opt=ACCESS)
async def dashboard_page(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    from_: FromDay = None,
    to: ToDay = None,
) -> Template:
    today = clinic.today(datetime.now(UTC))
    rules = rules_in_force(clinic)
    context: dict[str, Any] = {
        "presets": presets(today),
        "asked": {"from": from_ or "", "to": to or ""},
        "level_labels": LEVEL_LABELS,
        "thresholds": settings.long_wait_minutes,
        "rule_titles": {rule_id: rule.title.get("en") for rule_id, rule in rules.items()},
    }
    try:
        figures = await _figures(db_session, clinic, settings, from_, to)
    except RangeError as wrong:
        context["error"] = str(wrong)
        page = staff_context(clinic, request, **context)
        return Template(
            "staff/dashboard.html", context=page, status_code=HTTP_422_UNPROCESSABLE_ENTITY
        )
    await audit_read(db_session, request, "stats.viewed", None, days=_days(figures))
    flags = sorted(figures["red_flags"].items(), key=lambda item: (-item[1], item[0]))
    outcomes = [(name.replace("_", " "), count) for name, count in figures["outcomes"].items()]
    context |= {
        "figures": figures,
        "flags": flags,
        "charts": {
            "days": days_chart(figures["days"]),
            "flags": bars_chart([flag for flag in flags if flag[1]], "flag"),
            "outcomes": bars_chart(outcomes, "outcome"),
            "waits": waits_chart(figures["seen"], settings.long_wait_minutes),
        },
    }
    page = staff_context(clinic, request, **context)
    return Template("staff/dashboard.html", context=page, status_code=HTTP_200_OK)


@get("/staff/dashboard.csv", operation_id="dashboardCsv", include_in_schema=False, opt=ACCESS)
async def dashboard_csv(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    from_: FromDay = None,
    to: ToDay = None,
) -> Response[str]:
    try:
        figures = await _figures(db_session, clinic, settings, from_, to)
    except RangeError as wrong:
        raise HTTPException(status_code=HTTP_422_UNPROCESSABLE_ENTITY, detail=str(wrong)) from None
    await audit_read(db_session, request, "stats.exported", None, days=_days(figures))
    name = f"clinic-figures-{figures['from']}-to-{figures['to']}.csv"
    return Response(
        figures_csv(figures),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _days(figures: dict[str, Any]) -> str:
    return f"{figures['from']}/{figures['to']}"
