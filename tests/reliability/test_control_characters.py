"""Control characters (service.control_characters) are refused in every free-text input.

Each input is tried on the API and on the HTML form where both exist: a clear 4xx naming the
input, and nothing stored. Sign-in with one in the email is just a failed sign-in.
"""

from __future__ import annotations

import re

import pytest
from httpx import Response
from sqlalchemy.engine import URL

from tests.counting import count_rows
from tests.patients import intake_body
from tests.staff.support import Caller, Client, as_caller, callers, csrf_token, sign_in
from tests.web.test_intake_form import form_fields, open_form, send

CONTROLS = {
    "NUL": "\x00",
    "escape": "\x1b",
    "DEL": "\x7f",
    "C1 next line": "\x85",
    "noncharacter U+FFFE": "\ufffe",
    "noncharacter U+FFFF": "\uffff",
}


@pytest.mark.parametrize("link_id", ["full_name", "concern_details"])
@pytest.mark.parametrize("case", list(CONTROLS))
async def test_an_answer_with_a_control_character_is_refused_by_name(
    client: Client, database_url: URL, case: str, link_id: str
) -> None:
    before = await count_rows(database_url)
    body = intake_body(**{link_id: f"Ravi {CONTROLS[case]} Kumar"})
    response = await client.post("/api/v1/intakes", json=body)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [link_id]
    assert await count_rows(database_url) == before


@pytest.mark.parametrize("case", ["noncharacter U+FFFE", "C1 next line", "DEL"])
async def test_the_form_refuses_a_control_character_in_free_text(
    client: Client, database_url: URL, case: str
) -> None:
    before = await count_rows(database_url)
    fields = form_fields(concern_details=f"pain {CONTROLS[case]} here")
    response = await send(client, await open_form(client), fields)
    assert response.status_code == 422
    assert 'id="concern_details-error"' in response.text or "concern_details" in response.text
    assert await count_rows(database_url) == before


async def _move(client: Client, caller: Caller, intake_id: str, **fields: str) -> Response:
    """The reception queue's status button, as the page posts it."""
    data = {**fields, "_csrf_token": caller.csrf}
    return await as_caller(client, caller, "POST", f"/staff/intakes/{intake_id}/status", data=data)


async def _override(client: Client, doctor: Caller, intake_id: str, reason: str) -> Response:
    path = f"/api/v1/intakes/{intake_id}/priority"
    return await as_caller(
        client, doctor, "POST", path, json={"priority": "routine", "reason": reason}
    )


async def _emergency(client: Client) -> str:
    created = await client.post("/api/v1/intakes", json=intake_body(chest_pain=True))
    assert created.status_code == 201
    return str(created.json()["id"])


@pytest.mark.parametrize("case", ["NUL", "escape", "noncharacter U+FFFF"])
async def test_an_override_reason_with_a_control_character_is_refused(
    client: Client, database_url: URL, case: str
) -> None:
    who = await callers(client, database_url)
    intake_id = await _emergency(client)
    reason = f"seen{CONTROLS[case]} in person"
    api = await _override(client, who["doctor"], intake_id, reason)
    assert api.status_code == 422, api.text
    assert [error["field"] for error in api.json()["errors"]] == ["reason"]
    form = await as_caller(
        client,
        who["doctor"],
        "POST",
        f"/staff/intakes/{intake_id}/priority",
        data={"priority": "routine", "reason": reason, "_csrf_token": who["doctor"].csrf},
    )
    assert form.status_code == 422, form.text[:300]
    assert "control character" in form.text
    stored = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{intake_id}")
    assert stored.json()["override"] is None
    assert stored.json()["priority"] == "emergency"


async def test_an_override_reason_keeps_its_line_breaks_and_tabs(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await _emergency(client)
    reason = "seen in person:\r\n\tno chest pain now"
    api = await _override(client, who["doctor"], intake_id, reason)
    assert api.status_code == 200, api.text


@pytest.mark.parametrize("case", ["NUL", "escape", "noncharacter U+FFFE"])
async def test_a_control_character_in_the_sign_in_email_is_a_failed_sign_in(
    client: Client, database_url: URL, case: str
) -> None:
    await callers(client, database_url)
    response = await sign_in(client, f"doctor{CONTROLS[case]}@clinic.test")
    assert response.status_code == 401, response.text[:300]
    assert "session" not in response.cookies


@pytest.mark.parametrize("target", ["/staff/queue\r\nSet-Cookie: x=1", "/staff/queue\x00", "\x1b"])
async def test_a_control_character_in_a_return_address_falls_back_to_the_queue(
    client: Client, database_url: URL, target: str
) -> None:
    who = await callers(client, database_url)
    intake_id = await _emergency(client)
    moved = await _move(client, who["reception"], intake_id, status="called", return_to=target)
    assert moved.status_code == 303, moved.text[:300]
    assert moved.headers["location"] == "/staff/queue"
    client.cookies.clear()
    token = await csrf_token(client)
    login = await client.post(
        "/staff/login",
        data={
            "email": "doctor@clinic.test",
            "password": "correct horse battery",
            "_csrf_token": token,
            "next": target,
        },
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text[:300]
    assert login.headers["location"] == "/staff/queue"


@pytest.mark.parametrize("case", ["NUL", "C1 next line"])
async def test_a_status_form_with_a_control_character_is_refused(
    client: Client, database_url: URL, case: str
) -> None:
    who = await callers(client, database_url)
    intake_id = await _emergency(client)
    moved = await _move(client, who["reception"], intake_id, status=f"called{CONTROLS[case]}")
    assert 400 <= moved.status_code < 500
    stored = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{intake_id}")
    assert stored.json()["status"] == "new"
    assert re.search(r"<html", moved.text)
