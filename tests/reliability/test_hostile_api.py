"""Hostile requests to the API: each gets a clear 4xx in problem details, and nothing is stored.

Oversized and deeply nested bodies, wrong types at every level, broken encodings, null bytes
and control characters, hostile headers, query strings and path segments.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from tests.counting import count_rows
from tests.patients import intake_body, patient_json
from tests.staff.support import make_staff

Client = AsyncTestClient[Litestar]
JSON = {"content-type": "application/json"}


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _body(**changes: object) -> bytes:
    return json.dumps(intake_body(**changes), ensure_ascii=False).encode()


BAD_BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "empty": (b"", JSON),
    "not json": (b"full_name=x", JSON),
    "truncated json": (_body()[:-5], JSON),
    "json null": (b"null", JSON),
    "json list": (b"[]", JSON),
    "json string": (b'"answers"', JSON),
    "answers is a list": (json.dumps({"language": "en", "answers": []}).encode(), JSON),
    "answers is null": (json.dumps({"language": "en", "answers": None}).encode(), JSON),
    "language is a number": (json.dumps({"language": 1, "answers": patient_json()}).encode(), JSON),
    "unknown language": (json.dumps({"language": "xx", "answers": patient_json()}).encode(), JSON),
    "extra top-level field": (
        json.dumps({"language": "en", "answers": patient_json(), "admin": True}).encode(),
        JSON,
    ),
    "deeply nested body": (_deep(100_000).encode(), JSON),
    "deeply nested answer": (
        b'{"language":"en","answers":{"full_name":' + _deep(10_000).encode() + b"}}",
        JSON,
    ),
    "huge body": (_body(concern_details="x" * 70_000), JSON),
    "huge list of codes": (
        json.dumps({"language": "en", "answers": {"x": ["a"] * 40_000}}).encode(),
        JSON,
    ),
    "many unknown answers": (
        json.dumps({"language": "en", "answers": {f"q{i}": True for i in range(3000)}}).encode(),
        JSON,
    ),
    "invalid utf-8": (b'{"language":"en","answers":{"full_name":"\xff\xfe"}}', JSON),
    "lone surrogate escape": (_body().replace(b'"Test Patient"', b'"\\ud800"'), JSON),
    "null byte in a name": (_body(full_name="Test\x00Patient"), JSON),
    "null byte escaped": (_body().replace(b'"Test Patient"', b'"Test\\u0000Patient"'), JSON),
    "control character in free text": (_body(concern_details="a\x1bb"), JSON),
    "name over its length": (_body(full_name="N" * 121), JSON),
    "free text over its length": (_body(concern_details="x" * 2001), JSON),
    "number as a name": (_body(full_name=12345), JSON),
    "object as a yes/no": (_body(fever={"yes": True}), JSON),
    "string as a yes/no": (_body(fever="true"), JSON),
    "float as a date": (_body(birth_date=1990.5), JSON),
    "impossible date": (_body(birth_date="1990-02-30"), JSON),
    "date with a time": (_body(birth_date="1990-02-03T00:00:00"), JSON),
    "code not offered": (_body(main_concern="'; DROP TABLE intake; --"), JSON),
    "huge integer": (_body().replace(b'"fever": false', b'"fever": 1' + b"0" * 5000), JSON),
    "nan": (_body().replace(b'"fever": false', b'"fever": NaN'), JSON),
    "duplicate keys": (b'{"language":"en","language":"ml","answers":{}}', JSON),
    "form encoded": (b"language=en", {"content-type": "application/x-www-form-urlencoded"}),
    "xml": (b"<intake/>", {"content-type": "application/xml"}),
    "no content type": (_body(), {}),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
async def test_a_hostile_submission_is_refused_clearly_and_stores_nothing(
    client: Client, database_url: URL, case: str
) -> None:
    content, headers = BAD_BODIES[case]
    before = await count_rows(database_url)
    response = await client.post("/api/v1/intakes", content=content, headers=headers)
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json"), case
    problem = response.json()
    assert problem["status"] == response.status_code
    assert {"type", "title", "status"} <= set(problem)
    assert "Traceback" not in response.text
    assert len(response.content) < 32_000, "an error must not echo a huge body back"
    assert await count_rows(database_url) == before, case


@pytest.mark.parametrize(
    "key",
    ["k" * 10_000, "line\r\nbreak", "tab\there", "ключ-ᚠ-🔑", "  ", ""],
    ids=["very long", "crlf", "tab", "non-ascii", "blank", "empty"],
)
async def test_a_hostile_idempotency_key_is_refused_or_harmless(
    client: Client, database_url: URL, key: str
) -> None:
    headers = {b"idempotency-key": key.encode()}
    first = await client.post("/api/v1/intakes", json=intake_body(), headers=headers)
    assert first.status_code in {201, 400, 422}, first.text
    stored = (await count_rows(database_url))["intake"]
    assert stored == (1 if first.status_code == 201 else 0)
    if first.status_code == 201:
        again = await client.post("/api/v1/intakes", json=intake_body(), headers=headers)
        assert again.json()["id"] == first.json()["id"]
        assert (await count_rows(database_url))["intake"] == 1


HOSTILE_QUERIES = [
    "date=2026-02-30",
    "date=" + "9" * 5000,
    "date=2026-11-25%00",
    "date='%20OR%201=1--",
    "status=new%00",
    "status=" + "bogus," * 2000,
    "status=<script>",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
async def test_hostile_queue_queries_get_a_clear_4xx(
    client: Client, database_url: URL, query: str
) -> None:
    token = (await make_staff(database_url))["reception-token"]
    response = await client.get(
        f"/api/v1/queue?{query}", headers={"authorization": f"Bearer {token}"}
    )
    assert 400 <= response.status_code < 500, (query, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "<script>" not in response.text


@pytest.mark.parametrize(
    "segment",
    ["not-a-uuid", "..%2F..%2Fetc%2Fpasswd", "%00", "1%20OR%201=1", "0" * 5000],
)
async def test_hostile_intake_ids_get_a_clear_4xx(
    client: Client, database_url: URL, segment: str
) -> None:
    token = (await make_staff(database_url))["doctor-token"]
    headers = {"authorization": f"Bearer {token}"}
    for suffix in ("", "/summary.pdf", "/fhir"):
        response = await client.get(f"/api/v1/intakes/{segment}{suffix}", headers=headers)
        assert 400 <= response.status_code < 500, (segment, suffix, response.status_code)
        assert "Traceback" not in response.text


async def test_a_bearer_token_of_any_shape_is_refused_without_a_crash(client: Client) -> None:
    shapes: list[Any] = ["", " ", "x" * 20_000, "tok\x00en", "' OR 1=1 --", "Basic abc"]
    for token in shapes:
        response = await client.get(
            "/api/v1/queue", headers={b"authorization": f"Bearer {token}".encode()}
        )
        assert response.status_code == 401, (token[:20], response.status_code)
