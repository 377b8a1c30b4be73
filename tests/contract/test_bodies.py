"""Every API route that takes a JSON body refuses what is not JSON with a clear 4xx, never a 500.

schemathesis only sends valid UTF-8 and modest nesting; these bodies are the ones it does not
try. The routes come from the OpenAPI schema, so a new JSON route is covered by itself.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from service.staff import Role
from tests.patients import intake_body
from tests.staff.support import Client, as_caller, callers

NOT_JSON = {
    "invalid utf-8": (b'{"status": "\xff\xfe", "reason": "\xff"}', "application/json", 400),
    "nested too deep": (b"[" * 10_000 + b"]" * 10_000, "application/json", 400),
    "truncated": (b'{"status": "ca', "application/json", 400),
    "form encoded": (b"status=called", "application/x-www-form-urlencoded", 415),
    "plain text": (b'{"status": "called"}', "text/plain", 415),
}


@pytest.mark.parametrize("case", NOT_JSON, ids=list(NOT_JSON))
async def test_bodies_that_are_not_json_get_problem_details(
    client: Client, database_url: URL, case: str
) -> None:
    who = await callers(client, database_url)
    created = await client.post("/api/v1/intakes", json=intake_body())
    intake_id = created.json()["id"]
    schema = (await client.get("/schema/openapi.json")).json()
    content, media_type, status = NOT_JSON[case]
    checked = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            caller = who[f"{Role.DOCTOR}-token"] if operation.get("security") else who["anonymous"]
            url = path.replace("{intake_id}", intake_id)
            response = await as_caller(
                client, caller, method, url, content=content, headers={"content-type": media_type}
            )
            where = f"{method.upper()} {path}"
            assert response.status_code == status, (where, response.text)
            assert response.headers["content-type"].startswith("application/problem+json"), where
            assert str(status) in operation["responses"], f"{where} does not document {status}"
            checked += 1
    assert checked >= 3
