"""The submission lane (service.web.submission_lane): the ordinary `POST /api/v1/intakes` is
answered ahead of the router, exactly as the route answers it; everything else reaches the route
with its body intact."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.app import create_app
from service.models import AuditEvent
from service.web import submission_lane
from service.web.submission_lane import SubmissionLane
from tests.api.test_submit_intake import NOTHING_STORED, URL_PATH, assert_problem
from tests.counting import count_rows
from tests.databases import in_database
from tests.patients import intake_body

Client = AsyncTestClient[Litestar]
# Headers that differ between two answers by nature: the new intake's place, the request id,
# the body's length, what is left of the rate limit and when it resets.
_PER_ANSWER = {
    "location",
    "x-request-id",
    "content-length",
    "ratelimit-remaining",
    "ratelimit-reset",
}


def lane_of(app: Litestar) -> SubmissionLane:
    handler = app.asgi_handler
    while not isinstance(handler, SubmissionLane):
        handler = handler.app  # type: ignore[attr-defined]
    return handler


def counting_takes(app: Litestar) -> list[str]:
    """The paths of the requests the lane takes from now on (the route gets the others)."""
    lane, taken = lane_of(app), []
    stack = lane.stack

    async def counted(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        taken.append(scope["path"])
        await stack(scope, receive, send)

    lane.stack = counted  # type: ignore[assignment]
    return taken


def _same_headers(lane: Any, route: Any) -> None:
    lane_headers, route_headers = dict(lane.headers), dict(route.headers)
    assert lane_headers.keys() == route_headers.keys()
    assert {name: value for name, value in lane_headers.items() if name not in _PER_ANSWER} == {
        name: value for name, value in route_headers.items() if name not in _PER_ANSWER
    }


async def test_the_lane_answers_an_ordinary_submission_as_the_route_does(
    app_with: Callable[..., Litestar], database_url: URL
) -> None:
    # With the rate limit on, as in production: its headers are on the lane's answers too.
    app = app_with(INTAKE_RATE_LIMIT_PER_MINUTE="10")
    taken = counting_takes(app)
    body = intake_body(erection_over_4h=True, fever=True)
    refused_body = intake_body()
    refused_body["answers"]["age"] = 12
    async with AsyncTestClient(app=app) as client:
        by_lane = await client.post(URL_PATH, json=body)
        # The same answers with an Idempotency-Key: the route's own handler answers.
        by_route = await client.post(URL_PATH, json=body, headers={"Idempotency-Key": "route-1"})
        refused_by_lane = await client.post(URL_PATH, json=refused_body)
        refused_by_route = await client.post(
            URL_PATH, json=refused_body, headers={"Idempotency-Key": "route-2"}
        )
    assert taken == [URL_PATH, URL_PATH]
    assert by_lane.status_code == by_route.status_code == 201, by_lane.text
    assert "ratelimit-remaining" in by_lane.headers
    _same_headers(by_lane, by_route)
    first, second = by_lane.json(), by_route.json()
    assert by_lane.headers["location"] == f"/api/v1/intakes/{first['id']}"
    assert first.keys() == second.keys()
    for same in ("priority", "red_flags", "advice"):
        assert first[same] == second[same]
    assert first["priority"] == "emergency"
    # A refusal is the route's too, word for word.
    assert_problem(refused_by_lane, 422, "age")
    _same_headers(refused_by_lane, refused_by_route)
    assert refused_by_lane.json() == refused_by_route.json()
    # Stored alike: each with its rows and its audit event.
    rows = await count_rows(database_url)
    assert rows["intake"] == rows["status_change"] == rows["outbox_event"] == 2
    submitted = await in_database(
        database_url, select(AuditEvent.intake_id).where(AuditEvent.action == "intake.submitted")
    )
    assert sorted(str(row[0]) for row in submitted) == sorted([first["id"], second["id"]])


async def test_a_content_type_in_capitals_is_taken(app: Litestar, client: Client) -> None:
    taken = counting_takes(app)
    response = await client.post(
        URL_PATH,
        content=json.dumps(intake_body()),
        headers={"content-type": "Application/JSON; charset=UTF-8"},
    )
    assert response.status_code == 201, response.text
    assert taken == [URL_PATH]


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"authorization": "Bearer not-a-token"}, "a token's use is recorded by the route"),
        ({"cookie": "a=b"}, "a browser's request passes the same-origin check"),
        ({"idempotency-key": "key-1"}, "a key is looked up"),
    ],
)
async def test_requests_the_lane_leaves_reach_the_route(
    app: Litestar, client: Client, headers: dict[str, str], why: str
) -> None:
    taken = counting_takes(app)
    response = await client.post(URL_PATH, json=intake_body(), headers=headers)
    assert response.status_code == 201, (why, response.text)
    assert taken == [], why


async def test_bodies_the_lane_cannot_use_reach_the_route_whole(
    app: Litestar, client: Client, database_url: URL
) -> None:
    """The route answers them as before: it reads the very bytes the lane read."""
    taken = counting_takes(app)
    json_header = {"content-type": "application/json"}
    malformed = await client.post(
        URL_PATH, content=b'{"language": "en", "answ', headers=json_header
    )
    assert_problem(malformed, 400)
    unknown_field = await client.post(URL_PATH, json={**intake_body(), "extra": 1})
    assert_problem(unknown_field, 422)
    wrong_language = await client.post(URL_PATH, json={**intake_body(), "language": "fr"})
    assert_problem(wrong_language, 422)
    not_utf8 = await client.post(URL_PATH, content=b'{"language": "\xff"}', headers=json_header)
    assert_problem(not_utf8, 400)
    too_deep = await client.post(URL_PATH, content=b"[" * 60_000, headers=json_header)
    assert_problem(too_deep, 400)
    too_big = await client.post(URL_PATH, json=intake_body(concern_details="x" * (65 * 1024)))
    assert_problem(too_big, 413)
    as_text = await client.post(
        URL_PATH, content=json.dumps(intake_body()), headers={"content-type": "text/plain"}
    )
    assert_problem(as_text, 415)
    assert taken == []
    assert await count_rows(database_url) == NOTHING_STORED


async def test_doubled_or_outlandish_framing_headers_are_left_to_the_route(
    app: Litestar, database_url: URL
) -> None:
    """Two Content-Types (the route reads the first), two Content-Lengths, a Content-Length
    of thousands of digits: the lane takes none of them, and none is a 500."""
    taken = counting_takes(app)
    encoded = json.dumps(intake_body()).encode()
    length = str(len(encoded)).encode()
    json_type = (b"content-type", b"application/json")
    cases = {
        "two content types": [
            (b"content-type", b"text/plain"),
            json_type,
            (b"content-length", length),
        ],
        "two lengths": [json_type, (b"content-length", length), (b"content-length", length)],
        "endless length": [json_type, (b"content-length", b"0" * 5000 + length)],
    }
    async with AsyncTestClient(app=app) as client:
        portal = client.blocking_portal
        for case, headers in cases.items():
            status, answer = await asyncio.to_thread(
                portal.call, _call, app, [encoded], len(encoded), headers
            )
            assert status != 500, (case, answer)
            if case == "two content types":
                assert status == 415, answer
    assert taken == []
    assert (await count_rows(database_url))["intake"] <= 1


def test_the_lane_refuses_to_start_when_the_route_changes(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route whose body limit (or guard, hook, rate limit) the lane does not know of: the
    app does not start, rather than answering the route's requests without it."""
    monkeypatch.setattr(submission_lane, "MAX_BODY", 1024)
    with pytest.raises(RuntimeError, match="request_max_body_size"):
        create_app()


async def test_answers_the_form_refuses_are_the_route_s_422(
    app: Litestar, client: Client, database_url: URL
) -> None:
    taken = counting_takes(app)
    body = intake_body()
    body["answers"]["age"] = 12
    refused = await client.post(URL_PATH, json=body)
    assert_problem(refused, 422, "age")
    assert taken == [URL_PATH]
    assert await count_rows(database_url) == NOTHING_STORED


async def _call(
    app: Litestar,
    body_parts: list[bytes],
    length: int,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, bytes]:
    """One request straight to the app's ASGI callable, its body in these parts (and these
    content headers, or JSON of `length` bytes)."""
    messages: list[dict[str, object]] = [
        {"type": "http.request", "body": part, "more_body": more}
        for part, more in zip(body_parts, [True] * (len(body_parts) - 1) + [False], strict=True)
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": URL_PATH,
        "raw_path": URL_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            *(
                headers
                or [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(length).encode()),
                ]
            ),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    status = next(int(m["status"]) for m in sent if m["type"] == "http.response.start")  # type: ignore[call-overload]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    return status, body


async def test_a_body_sent_in_parts_is_read_whole(app: Litestar, database_url: URL) -> None:
    taken = counting_takes(app)
    encoded = json.dumps(intake_body()).encode()
    parts = [encoded[start : start + 100] for start in range(0, len(encoded), 100)]
    # The app runs on the test client's own loop (its lifespan, its intake writer): the raw
    # ASGI calls go there too.
    async with AsyncTestClient(app=app) as client:
        portal = client.blocking_portal
        status, answer = await asyncio.to_thread(portal.call, _call, app, parts, len(encoded))
        assert status == 201, answer
        assert taken == [URL_PATH]
        # Not JSON at its end: the route reads the same parts again and answers 400.
        broken = [*parts[:-1], b"#" * len(parts[-1])]
        status, answer = await asyncio.to_thread(portal.call, _call, app, broken, len(encoded))
        assert status == 400, answer
        assert b"not valid JSON" in answer
        assert taken == [URL_PATH]
    assert (await count_rows(database_url))["intake"] == 1


async def test_the_lane_and_the_route_share_one_rate_limit(
    app_with: Callable[..., Litestar], database_url: URL
) -> None:
    app = app_with(INTAKE_RATE_LIMIT_PER_MINUTE="2")
    taken = counting_takes(app)
    async with AsyncTestClient(app=app) as client:
        by_lane = await client.post(URL_PATH, json=intake_body())
        by_route = await client.post(URL_PATH, json=intake_body(), headers={"Idempotency-Key": "a"})
        limited_lane = await client.post(URL_PATH, json=intake_body())
        limited_route = await client.post(
            URL_PATH, json=intake_body(), headers={"Idempotency-Key": "b"}
        )
    assert [by_lane.status_code, by_route.status_code] == [201, 201]
    for limited in (limited_lane, limited_route):
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) > 0
    assert taken == [URL_PATH, URL_PATH]
    assert (await count_rows(database_url))["intake"] == 2
