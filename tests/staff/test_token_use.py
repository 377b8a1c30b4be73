"""Every request made with an API token is on the audit trail, whatever its answer, once."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.engine import URL

from service.models import ApiToken, AuditEvent, Intake
from tests.databases import in_database
from tests.patients import intake_body
from tests.staff.support import Client, as_caller, callers
from tests.staff.test_queue_api import submit


async def trail(url: URL) -> list[tuple[str, str, str | None, dict[str, object]]]:
    """(actor kind, action, actor id, detail) of every audit event, oldest first."""
    rows = await in_database(url, select(AuditEvent).order_by(AuditEvent.id))
    return [(row.actor_kind, row.action, row.actor_id, row.detail) for row in rows]


async def token_ids(url: URL) -> dict[str, tuple[str, object]]:
    """Token name: (id, last used)."""
    rows = await in_database(url, select(ApiToken))
    return {row.name: (str(row.id), row.last_used_at) for row in rows}


async def statuses(url: URL) -> list[str]:
    rows = await in_database(url, select(Intake.status))
    return [row[0] for row in rows]


async def test_a_token_read_of_the_queue_records_the_token_use_then_the_read(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    await submit(client)
    before = len(await trail(database_url))
    response = await as_caller(client, who["reception-token"], "GET", "/api/v1/queue")
    assert response.status_code == 200
    token_id, last_used = (await token_ids(database_url))["reception system"]
    assert last_used is not None
    new = await trail(database_url)
    assert new[before:] == [
        ("token", "token.used", token_id, {"method": "GET", "path": "/api/v1/queue"}),
        ("token", "queue.viewed", token_id, new[-1][3]),
    ]
    assert new[-1][3]["rows"] == 1


async def test_a_refused_token_request_records_the_token_use_and_stores_nothing_else(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client)
    doctor, reception = who["doctor-token"], who["reception-token"]
    refused = [
        (reception, "GET", f"/api/v1/intakes/{intake_id}", 403),  # wrong role
        (doctor, "GET", f"/api/v1/intakes/{uuid4()}", 404),
        (doctor, "GET", "/api/v1/queue?status=gone", 422),
        (doctor, "POST", f"/api/v1/intakes/{intake_id}/status", 409),  # new -> done
    ]
    before = len(await trail(database_url))
    for caller, method, path, status in refused:
        body = {"json": {"status": "done"}} if method == "POST" else {}
        response = await as_caller(client, caller, method, path, **body)
        assert response.status_code == status, (path, response.text)
    new = await trail(database_url)
    assert [(kind, action) for kind, action, _, _ in new[before:]] == [("token", "token.used")] * 4
    assert [detail["path"] for _, _, _, detail in new[before:]] == [
        path.split("?")[0] for *_, path, _ in refused
    ]
    assert await statuses(database_url) == ["new"]


async def test_a_token_change_is_recorded_with_its_token_use_once(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client)
    before = len(await trail(database_url))
    path = f"/api/v1/intakes/{intake_id}/status"
    moved = await as_caller(client, who["reception-token"], "POST", path, json={"status": "called"})
    assert moved.status_code == 200
    actions = [action for _, action, _, _ in (await trail(database_url))[before:]]
    assert sorted(actions) == ["intake.status_changed", "token.used"]
    assert await statuses(database_url) == ["called"]


async def test_a_token_sent_to_the_public_api_is_looked_up_and_its_use_recorded(
    client: Client, database_url: URL
) -> None:
    """The public API does not ask who calls, but a clinic system that sends its token there
    has used it: the trail and the token's last use say so, as on any other route."""
    who = await callers(client, database_url)
    before = len(await trail(database_url))
    token = who["reception-token"]
    form = await as_caller(client, token, "GET", "/api/v1/questionnaire")
    assert form.status_code == 200
    created = await as_caller(client, token, "POST", "/api/v1/intakes", json=intake_body())
    assert created.status_code == 201, created.text
    token_id, last_used = (await token_ids(database_url))["reception system"]
    assert last_used is not None
    uses = [
        (actor, detail)
        for kind, action, actor, detail in (await trail(database_url))[before:]
        if kind == "token" and action == "token.used"
    ]
    assert uses == [
        (token_id, {"method": "GET", "path": "/api/v1/questionnaire"}),
        (token_id, {"method": "POST", "path": "/api/v1/intakes"}),
    ]
