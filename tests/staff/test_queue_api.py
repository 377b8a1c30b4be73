"""The queue and the moves on it, through the JSON API, with real callers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import URL

from service.models import AuditEvent, Intake
from tests.databases import in_database
from tests.patients import intake_body
from tests.staff.support import Caller, Client, as_caller, callers


async def submit(client: Client, **answers: object) -> str:
    response = await client.post("/api/v1/intakes", json=intake_body(**answers))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


CLINIC = ZoneInfo("Asia/Kolkata")


async def shift_submission(url: URL, intake_id: str, minutes_ago: int) -> None:
    await submitted_at(url, intake_id, datetime.now(UTC) - timedelta(minutes=minutes_ago))


async def submitted_at(url: URL, intake_id: str, at: datetime) -> None:
    await in_database(
        url, update(Intake).where(Intake.id == UUID(intake_id)).values(submitted_at=at)
    )


def one_clinic_day(*minutes_ago: int) -> tuple[date, list[datetime]]:
    """Submission times so many minutes before now, and their clinic day, for a test of one
    day's queue. Just after the clinic's midnight some would fall on yesterday: then all move
    back together to end just before midnight, and stay as far apart."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(CLINIC).date(), time.min, tzinfo=CLINIC)
    latest, earliest = (now - timedelta(minutes=m) for m in (min(minutes_ago), max(minutes_ago)))
    back = timedelta(0) if earliest >= midnight else latest - midnight + timedelta(minutes=1)
    times = [now - timedelta(minutes=minutes) - back for minutes in minutes_ago]
    return times[0].astimezone(CLINIC).date(), times


def minutes_waited(since: datetime) -> int:
    return (datetime.now(UTC) - since) // timedelta(minutes=1)


async def queue(client: Client, caller: Caller, query: str = "") -> list[dict[str, object]]:
    response = await as_caller(client, caller, "GET", f"/api/v1/queue{query}")
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_the_queue_is_ordered_by_level_then_oldest_first(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    routine_old = await submit(client)
    soon = await submit(client, urination_pain=True)
    emergency = await submit(client, chest_pain=True)
    routine_new = await submit(client)
    day, times = one_clinic_day(30, 20, 10, 0)
    for intake_id, at in zip((routine_old, soon, emergency, routine_new), times, strict=True):
        await submitted_at(database_url, intake_id, at)
    rows = await queue(client, who["reception"], f"?date={day.isoformat()}")
    assert [row["id"] for row in rows] == [emergency, soon, routine_old, routine_new]
    assert [row["priority"] for row in rows] == ["emergency", "soon", "routine", "routine"]
    waited = minutes_waited(times[2])  # 10, unless moved back before midnight
    assert rows[0]["waiting_minutes"] in {waited - 1, waited}
    assert rows[0]["long_wait"] is True  # an emergency waiting 10 min is a long wait (5)
    assert rows[3]["long_wait"] is False


async def test_status_moves_follow_the_contract_and_filter_the_queue(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client)
    path = f"/api/v1/intakes/{intake_id}/status"
    for target in ("called", "arrived", "with_doctor"):
        response = await as_caller(client, who["reception"], "POST", path, json={"status": target})
        assert response.status_code == 200, response.text
    back = await as_caller(client, who["reception"], "POST", path, json={"status": "new"})
    assert back.status_code == 409
    cancel_late = await as_caller(client, who["doctor"], "POST", path, json={"status": "cancelled"})
    assert cancel_late.status_code == 409
    done = await as_caller(client, who["doctor"], "POST", path, json={"status": "done"})
    assert done.status_code == 200
    assert await queue(client, who["reception"]) == []
    assert [row["id"] for row in await queue(client, who["reception"], "?status=done")] == [
        intake_id
    ]
    unknown = await as_caller(client, who["reception"], "GET", "/api/v1/queue?status=gone")
    assert unknown.status_code == 422
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert await queue(client, who["reception"], f"?date={tomorrow}&status=done") == []


async def test_an_override_needs_a_reason_and_reorders_the_queue(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    routine = await submit(client)
    soon = await submit(client, urination_pain=True)
    path = f"/api/v1/intakes/{routine}/priority"
    no_reason = await as_caller(
        client, who["doctor"], "POST", path, json={"priority": "urgent", "reason": " "}
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    done = await as_caller(
        client,
        who["doctor"],
        "POST",
        path,
        json={"priority": "urgent", "reason": "Severe pain on the phone"},
    )
    assert done.status_code == 200
    assert done.json() == {"id": routine, "priority": "urgent", "computed_priority": "routine"}
    assert [row["id"] for row in await queue(client, who["reception"])] == [routine, soon]
    detail = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{routine}")
    body = detail.json()
    assert (body["priority"], body["computed_priority"]) == ("urgent", "routine")
    assert body["override"]["reason"] == "Severe pain on the phone"


async def test_a_doctor_reading_an_intake_writes_exactly_one_audit_event(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client, fever=True, pelvic_pain=True)
    before = datetime.now(UTC)
    detail = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{intake_id}")
    assert detail.status_code == 200
    assert [flag["rule"] for flag in detail.json()["red_flags"]] == ["RF-ACUTE-PROSTATITIS"]
    events = await in_database(
        database_url,
        select(AuditEvent).where(
            AuditEvent.intake_id == UUID(intake_id), AuditEvent.action == "intake.viewed"
        ),
    )
    [event] = events
    assert event.actor_kind == "staff"
    assert event.actor_id is not None
    assert before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC)


async def test_the_queue_shows_the_name_and_phone_as_stored_in_any_script(
    client: Client, database_url: URL
) -> None:
    # The queue reads the name and phone out of the stored answers in the database itself.
    who = await callers(client, database_url)
    intake_id = await submit(client, full_name='അനിൽ "കുമാർ" \\ Nair')
    [row] = await queue(client, who["reception"])
    detail = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{intake_id}")
    answers = detail.json()["answers"]
    assert (row["full_name"], row["phone"]) == (answers["full_name"], answers["phone"])
    assert row["full_name"] == 'അനിൽ "കുമാർ" \\ Nair'
