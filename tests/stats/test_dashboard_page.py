"""`/staff/dashboard` and its CSV, in process: who may open them, the same figures as the API,
a range the page explains rather than answers, and each view and download on the trail."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select
from sqlalchemy.engine import URL

from service.models import AuditEvent
from tests.databases import in_database
from tests.patients import patient_json
from tests.staff.support import Client, as_caller, callers


async def test_doctors_and_admins_see_the_figures_of_the_api(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    for answers in ({"erection_over_4h": True}, {"urethral_discharge": True}, {}):
        body = {"language": "en", "answers": patient_json(**answers)}
        assert (await client.post("/api/v1/intakes", json=body)).status_code == 201
    api = (await as_caller(client, who["doctor"], "GET", "/api/v1/stats")).json()
    for caller in ("doctor", "admin"):
        page = await as_caller(client, who[caller], "GET", "/staff/dashboard")
        assert page.status_code == 200, caller
        html = page.text
        assert 'href="/staff/dashboard"' in html  # in the staff navigation
        assert html.count('<svg class="chart"') == 4
        # The tables hold the API's numbers: the red flags that fired, the intakes of the range.
        for rule in ("RF-PRIAPISM", "RF-STI"):
            assert re.search(rf'{rule}<span class="rule-title">[^<]*</span></th><td>1</td>', html)
        assert re.search(r"All days</th><td>1</td><td>1</td><td>0</td><td>1</td><td>3</td>", html)
        assert f"{api['from']}" in html
        assert f"{api['to']}" in html
    # The CSV holds the API's figures, one per row.
    download = await as_caller(
        client, who["doctor"], "GET", f"/staff/dashboard.csv?from={api['from']}&to={api['to']}"
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text.removeprefix("\ufeff"))))
    assert rows[0] == ["figure", "key", "value"]
    cells = {(figure, key): value for figure, key, value in rows[1:]}
    assert cells["intakes", "total"] == str(api["intakes"]["total"]) == "3"
    assert cells["intakes", "emergency"] == "1"
    assert cells["red_flags", "RF-STI"] == "1"
    assert cells["seen.emergency", "median_minutes"] == ""  # nobody seen yet
    assert cells[f"day.{api['to']}", "urgent"] == "1"
    trail = await in_database(
        database_url,
        select(AuditEvent.action).where(AuditEvent.action.in_(["stats.viewed", "stats.exported"])),
    )
    assert sorted(action for (action,) in trail) == [
        "stats.exported",
        "stats.viewed",
        "stats.viewed",
        "stats.viewed",
    ]


async def test_reception_and_strangers_are_kept_out(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)
    for path in ("/staff/dashboard", "/staff/dashboard.csv"):
        refused = await as_caller(client, who["reception"], "GET", path)
        assert refused.status_code == 403, path
        anonymous = await as_caller(client, who["anonymous"], "GET", path)
        assert anonymous.status_code == 303, path
        assert anonymous.headers["location"].startswith("/staff/login?next=")
    queue = await as_caller(client, who["reception"], "GET", "/staff/queue")
    assert 'href="/staff/dashboard"' not in queue.text


async def test_a_range_it_cannot_draw_is_explained_on_the_page(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    for query, words in [
        ("from=2026-11-12&to=2026-11-10", "after"),
        ("from=2024-01-01&to=2026-01-01", "A range is at most 366 days."),
        ("from=not-a-day", "YYYY-MM-DD"),
    ]:
        page = await as_caller(client, who["doctor"], "GET", f"/staff/dashboard?{query}")
        assert page.status_code == 422, query
        assert words in page.text
        assert '<svg class="chart"' not in page.text
        download = await as_caller(client, who["doctor"], "GET", f"/staff/dashboard.csv?{query}")
        assert download.status_code == 422, query
