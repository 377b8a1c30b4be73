"""Contract tests for `POST /api/v1/intakes`: each answer and each kind of bad input."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from service.app import create_app
from service.settings import get_settings
from tests.counting import count_rows
from tests.patients import intake_body

Client = AsyncTestClient[Litestar]
URL_PATH = "/api/v1/intakes"
NOTHING_STORED = {
    "intake": 0,
    "red_flag": 0,
    "status_change": 0,
    "audit_event": 0,
    "outbox_event": 0,
}


def assert_problem(response, status: int, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= body.keys()
    assert body["status"] == status
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body["errors"]
        assert all(error["message"] for error in body["errors"])
    text = response.text
    for leak in ("Traceback", "SELECT", "INSERT", "sqlalchemy"):
        assert leak not in text
    return body


async def test_a_valid_intake_is_stored_and_acknowledged(client: Client, database_url: URL) -> None:
    response = await client.post(URL_PATH, json=intake_body())
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "reference", "priority", "red_flags", "advice", "submitted_at"}
    uuid.UUID(body["id"])  # opaque, random: not a sequence number
    assert response.headers["location"] == f"/api/v1/intakes/{body['id']}"
    assert re.fullmatch(r"[2-9A-HJ-NP-TV-Z]{3}-[2-9A-HJ-NP-TV-Z]{3}", body["reference"])
    assert body["priority"] == "routine"
    assert body["red_flags"] == []
    assert body["advice"]
    assert datetime.fromisoformat(body["submitted_at"]).utcoffset() is not None
    assert await count_rows(database_url) == {
        "intake": 1,
        "red_flag": 0,
        "status_change": 1,
        "audit_event": 1,
        "outbox_event": 1,
    }


async def test_an_emergency_is_told_at_once_with_its_red_flag(
    client: Client, database_url: URL
) -> None:
    response = await client.post(URL_PATH, json=intake_body(erection_over_4h=True, fever=True))
    assert response.status_code == 201
    body = response.json()
    assert body["priority"] == "emergency"
    assert [(flag["rule"], flag["level"]) for flag in body["red_flags"]] == [
        ("RF-PRIAPISM", "emergency")
    ]
    assert body["red_flags"][0]["title"]
    assert "112" in body["advice"].split("\n\n")[0]
    assert "RF-" not in body["advice"]
    assert (await count_rows(database_url))["red_flag"] == 1


async def test_self_harm_shows_the_crisis_line_even_when_antidepressant_was_answered_no(
    client: Client,
) -> None:
    body = intake_body(
        takes_medicines=True,
        antidepressant=False,
        symptoms_after_new_medicine=False,
        self_harm_thoughts=True,
    )
    response = await client.post(URL_PATH, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["priority"] == "emergency"
    assert "14416" in response.json()["advice"]


async def test_malayalam_intakes_get_malayalam_advice(client: Client) -> None:
    response = await client.post(
        URL_PATH, json=intake_body("ml", concern_details="രാത്രിയിൽ ചോർച്ച ഉണ്ടാകുന്നു")
    )
    assert response.status_code == 201, response.text
    assert re.search("[\u0d00-\u0d7f]", response.json()["advice"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"favourite_colour": "blue"}, "favourite_colour"),  # unknown linkId
        ({"fever": "yes"}, "fever"),  # wrong type
        ({"trying_to_conceive": 1}, "trying_to_conceive"),  # an integer is not a boolean
        ({"chest_pain": None}, "chest_pain"),  # a required warning sign left blank
        ({"birth_date": "2001-02-30"}, "birth_date"),  # an impossible date
        ({"birth_date": "2099-01-01"}, "birth_date"),  # in the future
        ({"consent_privacy": False}, "consent_privacy"),  # consent not given
        ({"phone": "12"}, "phone"),
        ({"full_name": "x" * 121}, "full_name"),
        ({"main_concern": "headache"}, "main_concern"),
        ({"full_name": "Ravi\x00"}, "full_name"),
    ],
)
async def test_invalid_answers_get_422_naming_the_field_and_store_nothing(
    client: Client, database_url: URL, changes: dict[str, object], field: str
) -> None:
    body = intake_body(**changes)
    if changes.get("chest_pain", "") is None:
        del body["answers"]["chest_pain"]  # type: ignore[attr-defined]
    assert_problem(await client.post(URL_PATH, json=body), 422, field)
    assert await count_rows(database_url) == NOTHING_STORED


async def test_every_error_is_reported_at_once(client: Client) -> None:
    body = intake_body(fever="maybe", phone="", consent_privacy=False)
    problem = assert_problem(await client.post(URL_PATH, json=body), 422)
    assert {"fever", "phone", "consent_privacy"} <= {error["field"] for error in problem["errors"]}


async def test_errors_come_in_the_language_of_the_request(client: Client) -> None:
    problem = assert_problem(
        await client.post(URL_PATH, json=intake_body("ml", consent_privacy=False)), 422
    )
    assert re.search("[\u0d00-\u0d7f]", problem["errors"][0]["message"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "fr", "answers": {}}, "language"),
        ({"language": "en", "answers": ["not", "an", "object"]}, "answers"),
        ({"language": "en"}, "answers"),
        ({"language": "en", "answers": {}, "extra": 1}, "extra"),
    ],
)
async def test_a_body_of_the_wrong_shape_gets_422(
    client: Client, database_url: URL, body: dict[str, object], field: str
) -> None:
    problem = assert_problem(await client.post(URL_PATH, json=body), 422)
    assert any(field in error["field"] or field in error["message"] for error in problem["errors"])
    assert await count_rows(database_url) == NOTHING_STORED


async def test_malformed_json_gets_400(client: Client, database_url: URL) -> None:
    response = await client.post(
        URL_PATH,
        content=b'{"language": "en", "answers": {',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400)
    assert await count_rows(database_url) == NOTHING_STORED


async def test_a_body_over_64_kib_gets_413(client: Client, database_url: URL) -> None:
    body = intake_body(concern_details="x" * (65 * 1024))
    assert_problem(await client.post(URL_PATH, json=body), 413)
    assert await count_rows(database_url) == NOTHING_STORED


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_gets_415(
    client: Client, database_url: URL, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(URL_PATH, content=json.dumps(intake_body()), headers=headers)
    assert_problem(response, 415)
    assert await count_rows(database_url) == NOTHING_STORED


async def test_the_same_idempotency_key_and_body_answer_the_first_response_again(
    client: Client, database_url: URL
) -> None:
    headers = {"Idempotency-Key": "retry-1"}
    first = await client.post(
        URL_PATH, json=intake_body(fever=True, pelvic_pain=True), headers=headers
    )
    again = await client.post(
        URL_PATH, json=intake_body(fever=True, pelvic_pain=True), headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert (await count_rows(database_url))["intake"] == 1


async def test_the_same_idempotency_key_with_another_body_gets_409(
    client: Client, database_url: URL
) -> None:
    headers = {"Idempotency-Key": "retry-2"}
    assert (await client.post(URL_PATH, json=intake_body(), headers=headers)).status_code == 201
    other = await client.post(URL_PATH, json=intake_body(fever=True), headers=headers)
    assert_problem(other, 409)
    assert (await count_rows(database_url))["intake"] == 1


async def test_concurrent_retries_with_one_key_store_one_intake(
    client: Client, database_url: URL
) -> None:
    headers = {"Idempotency-Key": "double-click"}
    responses = await asyncio.gather(
        *(client.post(URL_PATH, json=intake_body(), headers=headers) for _ in range(5))
    )
    assert [response.status_code for response in responses] == [201] * 5
    assert len({response.json()["id"] for response in responses}) == 1
    assert (await count_rows(database_url))["intake"] == 1


async def test_an_unusable_idempotency_key_gets_422(client: Client, database_url: URL) -> None:
    response = await client.post(
        URL_PATH, json=intake_body(), headers={"Idempotency-Key": "k" * 201}
    )
    assert_problem(response, 422, "Idempotency-Key")
    assert await count_rows(database_url) == NOTHING_STORED


async def test_too_many_intakes_from_one_address_get_429_with_retry_after(
    service_env: dict[str, str], database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_RATE_LIMIT_PER_MINUTE", "2")
    get_settings.cache_clear()
    async with AsyncTestClient(app=create_app()) as client:
        statuses = [(await client.post(URL_PATH, json=intake_body())).status_code for _ in range(2)]
        limited = await client.post(URL_PATH, json=intake_body())
        health = await client.get("/health")
    assert statuses == [201, 201]
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0
    assert health.status_code == 200  # other routes are not limited
    assert (await count_rows(database_url))["intake"] == 2
