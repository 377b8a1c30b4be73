"""Days at the ends of the calendar: a clear refusal (422), never an OverflowError (500)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import URL

from service.queue import DayOutOfRangeError, day_bounds
from tests.staff.support import Client, as_caller, callers

ENDS = ["0001-01-01", "9999-12-31"]


# Whether the first day of the calendar starts before year 1 in UTC (east of Greenwich).
FIRST_DAY_BEFORE_YEAR_ONE = {
    "Asia/Kolkata": True,
    "Asia/Tokyo": True,
    "UTC": False,
    "America/Los_Angeles": False,
}


@pytest.mark.parametrize("zone", list(FIRST_DAY_BEFORE_YEAR_ONE))
def test_every_day_a_clinic_can_name_has_a_range_or_a_clear_refusal(zone: str) -> None:
    timezone = ZoneInfo(zone)
    # The last day always ends at a midnight after 9999-12-31.
    with pytest.raises(DayOutOfRangeError, match="9999-12-31"):
        day_bounds(date.max, timezone)
    if FIRST_DAY_BEFORE_YEAR_ONE[zone]:
        with pytest.raises(DayOutOfRangeError, match="0001-01-01"):
            day_bounds(date.min, timezone)
    else:
        start, end = day_bounds(date.min, timezone)
        assert start < end
    start, end = day_bounds(date(1, 1, 2), timezone)
    assert start < end
    start, end = day_bounds(date(9999, 12, 30), timezone)
    assert start < end


@pytest.mark.parametrize("day", ENDS)
async def test_the_queue_refuses_a_day_it_cannot_hold(
    client: Client, database_url: URL, day: str
) -> None:
    who = await callers(client, database_url)
    for path in ("/api/v1/queue", "/api/v1/queue.csv"):
        response = await as_caller(client, who["reception"], "GET", f"{path}?date={day}")
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in response.json()["errors"]] == ["date"]
    for path, caller in (("/staff/queue", "reception"), ("/staff/audit", "admin")):
        page = await as_caller(client, who[caller], "GET", f"{path}?date={day}")
        assert page.status_code == 422, (path, page.text[:300])
        assert "That day cannot be shown" in page.text
    # The days next to the ends are ordinary, empty days.
    inner = "0001-01-02" if day.startswith("0001") else "9999-12-30"
    response = await as_caller(client, who["reception"], "GET", f"/api/v1/queue?date={inner}")
    assert response.status_code == 200, response.text
    assert response.json() == []
