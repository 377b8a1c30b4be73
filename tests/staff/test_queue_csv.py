"""The day's queue as CSV for reception: who may download it, what it holds, what it never does."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.models import AuditEvent
from service.queue import COLUMNS
from service.spreadsheet import neutralise
from tests.databases import in_database
from tests.staff.support import Client, as_caller, callers
from tests.staff.test_queue_api import (
    CLINIC,
    minutes_waited,
    one_clinic_day,
    shift_submission,
    submit,
    submitted_at,
)

BOM = "\ufeff"


def rows_of(body: str) -> list[dict[str, str]]:
    assert body.startswith(BOM), "no byte order mark: Excel would garble Malayalam names"
    return list(csv.DictReader(io.StringIO(body.removeprefix(BOM))))


async def audit_events(url: URL, action: str) -> list[AuditEvent]:
    return await in_database(  # type: ignore[return-value]
        url, select(AuditEvent).where(AuditEvent.action == action)
    )


async def test_reception_downloads_the_days_queue_without_clinical_fields(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    emergency = await submit(client, chest_pain=True, full_name="Anil Kumar")
    routine = await submit(client, full_name="Beena Thomas")
    day_of_queue, (emergency_at, routine_at) = one_clinic_day(12, 0)
    await submitted_at(database_url, emergency, emergency_at)
    await submitted_at(database_url, routine, routine_at)
    day = day_of_queue.isoformat()
    response = await as_caller(client, who["reception"], "GET", f"/api/v1/queue.csv?date={day}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="queue-{day}.csv"'
    assert response.headers["cache-control"] == "no-store"
    header = next(csv.reader(io.StringIO(response.text.removeprefix(BOM))))
    assert tuple(header) == COLUMNS
    rows = rows_of(response.text)
    assert [row["full_name"] for row in rows] == ["Anil Kumar", "Beena Thomas"]
    assert [row["priority"] for row in rows] == ["emergency", "routine"]
    assert rows[0]["status"] == "new"
    waited = minutes_waited(emergency_at)  # 12, unless moved back before midnight
    assert int(rows[0]["waiting_minutes"]) in {waited - 1, waited}
    # The submission time is on the clinic's clock, not UTC.
    submitted = datetime.strptime(rows[0]["submitted_at"], "%Y-%m-%d %H:%M").replace(tzinfo=CLINIC)
    assert timedelta(0) <= emergency_at - submitted < timedelta(minutes=1)
    # Nothing clinical: no answers, no rule ids or titles, no ids that open the intake.
    text = response.text.lower()
    for clinical in ("chest", "rf-", "red_flag", "answers", "pain", emergency):
        assert clinical not in text


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
async def test_cells_a_spreadsheet_would_run_are_neutralised(
    client: Client, database_url: URL, start: str
) -> None:
    who = await callers(client, database_url)
    name = f'{start}HYPERLINK("https://evil.invalid","x")'
    await submit(client, full_name=name)
    response = await as_caller(client, who["doctor"], "GET", "/api/v1/queue.csv")
    assert response.status_code == 200, response.text
    [row] = rows_of(response.text)
    assert row["full_name"] == "'" + name
    for cell in row.values():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_gets_a_quote(start: str) -> None:
    # Tabs and carriage returns never get past the intake's own checks; the CSV does not rely on it.
    assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("Anil =1") == "Anil =1"


async def test_malayalam_names_round_trip_in_utf8(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)
    await submit(client, full_name="അനിൽ കുമാർ")
    response = await as_caller(client, who["admin"], "GET", "/api/v1/queue.csv")
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    decoded = response.content.decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(decoded)))
    assert row["full_name"] == "അനിൽ കുമാർ"


async def test_the_date_chooses_the_clinic_day(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)
    yesterday_id = await submit(client, full_name="Yesterday Patient")
    await submit(client, full_name="Today Patient")
    await shift_submission(database_url, yesterday_id, 24 * 60 + 5)
    today = datetime.now(CLINIC).date()
    yesterday = (datetime.now(UTC) - timedelta(minutes=24 * 60 + 5)).astimezone(CLINIC).date()
    for day, expected in ((today, "Today Patient"), (yesterday, "Yesterday Patient")):
        response = await as_caller(
            client, who["reception"], "GET", f"/api/v1/queue.csv?date={day.isoformat()}"
        )
        assert response.status_code == 200, response.text
        assert [row["full_name"] for row in rows_of(response.text)] == [expected]
        assert f'filename="queue-{day.isoformat()}.csv"' in response.headers["content-disposition"]
    empty = await as_caller(client, who["reception"], "GET", "/api/v1/queue.csv?date=2001-01-01")
    assert rows_of(empty.text) == []
    today = await as_caller(client, who["reception"], "GET", "/api/v1/queue.csv")
    assert (
        f'filename="queue-{datetime.now(CLINIC).date().isoformat()}.csv"'
        in (today.headers["content-disposition"])
    )


@pytest.mark.parametrize("query", ["date=2026-02-30", "date=yesterday", "status=lost"])
async def test_bad_parameters_are_problem_details(
    client: Client, database_url: URL, query: str
) -> None:
    who = await callers(client, database_url)
    response = await as_caller(client, who["reception"], "GET", f"/api/v1/queue.csv?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == query.split("=", maxsplit=1)[0]
    assert not await audit_events(database_url, "queue.exported")


async def test_only_staff_download_and_each_download_is_audited(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    await submit(client)
    anonymous = await as_caller(client, who["anonymous"], "GET", "/api/v1/queue.csv")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    for name in ("reception", "doctor", "admin", "reception-token"):
        response = await as_caller(client, who[name], "GET", "/api/v1/queue.csv")
        assert response.status_code == 200, (name, response.text)
    events = await audit_events(database_url, "queue.exported")
    assert len(events) == 4
    today = datetime.now(CLINIC).date().isoformat()
    # Whose names and phones left with the file: their references (ids, no names).
    [row] = rows_of(response.text)
    reference = row["reference"]
    assert all(
        event.detail == {"rows": 1, "day": today, "references": reference} for event in events
    )
    assert {event.actor_kind for event in events} == {"staff", "token"}


async def test_the_queue_page_offers_the_download_of_what_it_shows(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    page = await as_caller(
        client, who["reception"], "GET", "/staff/queue?date=2026-11-20&status=new&status=called"
    )
    assert page.status_code == 200
    assert 'href="/api/v1/queue.csv?date=2026-11-20&amp;status=called,new" download' in page.text
