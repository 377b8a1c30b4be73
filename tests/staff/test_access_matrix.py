"""Every route of the app, called as every kind of caller: each answer is checked.

The routes come from the app's own route table, so a new route cannot escape: it must
declare its access (public, or staff roles), or this test fails.
"""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy.engine import URL

from service.staff import Role
from service.web.access import allowed_roles
from service.web.problems import is_api, is_fhir
from tests.patients import intake_body
from tests.staff.support import Client, as_caller, callers

CALLER_ROLES = {
    "anonymous": None,
    "reception": Role.RECEPTION,
    "doctor": Role.DOCTOR,
    "admin": Role.ADMIN,
    "reception-token": Role.RECEPTION,
    "doctor-token": Role.DOCTOR,
    "admin-token": Role.ADMIN,
}


def concrete(path: str, intake_id: UUID) -> str:
    path = re.sub(r"\{[^}]*:uuid\}", str(intake_id), path)
    return re.sub(r"\{[^}]*:path\}", "screen.css", path)


def routes(app: Litestar) -> list[tuple[str, str, object]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in {"HEAD", "OPTIONS"}:
                    continue
                found.append((method, route.path, handler))
    # Signing out ends the caller's session on the server, for good: so it is called last.
    return sorted(found, key=lambda route: route[1] == "/staff/logout")


def test_every_route_declares_who_may_call_it(app: Litestar) -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, handler in routes(app)
        if allowed_roles(handler) is None  # type: ignore[arg-type]
    ]
    assert not undeclared, f"routes without declared access: {undeclared}"


async def test_each_route_answers_each_caller_as_declared(
    app: Litestar, client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    created = await client.post("/api/v1/intakes", json=intake_body())
    intake_id = UUID(created.json()["id"])
    checked = 0
    for method, path, handler in routes(app):
        declared = allowed_roles(handler)  # type: ignore[arg-type]
        url = concrete(path, intake_id)
        for caller_name, role in CALLER_ROLES.items():
            body = {"json": {}} if url.startswith("/api/") and method == "POST" else {"data": {}}
            response = await as_caller(client, who[caller_name], method, url, **body)
            outcome = f"{caller_name} {method} {url} -> {response.status_code}"
            if declared == "public":
                # The sign-in form itself answers 401 to wrong (here: empty) credentials.
                refused = {403} if url == "/staff/login" else {401, 403}
                assert response.status_code not in refused, outcome
                assert response.status_code < 500, outcome
            elif role is None:
                if is_api(url):
                    assert response.status_code == 401, outcome
                    assert response.headers["content-type"].startswith("application/problem+json")
                elif is_fhir(url):
                    assert response.status_code == 401, outcome
                    assert response.headers["content-type"].startswith("application/fhir+json")
                else:
                    assert response.status_code == 303, outcome
                    assert response.headers["location"].startswith("/staff/login?next="), outcome
            elif role in declared:  # type: ignore[operator]
                assert response.status_code not in {401, 403}, outcome
                assert response.status_code < 500, outcome
            else:
                assert response.status_code == 403, outcome
            checked += 1
    assert checked >= 7 * 20


@pytest.mark.parametrize("caller_name", ["reception", "reception-token"])
async def test_reception_sees_no_clinical_answers_and_no_rule_titles(
    client: Client, database_url: URL, caller_name: str
) -> None:
    who = await callers(client, database_url)
    body = intake_body(erection_over_4h=True, concern_details="a very private detail")
    created = await client.post("/api/v1/intakes", json=body)
    assert created.status_code == 201
    title = created.json()["red_flags"][0]["title"]
    queue = await as_caller(client, who[caller_name], "GET", "/api/v1/queue")
    assert queue.status_code == 200
    [row] = queue.json()
    assert set(row) == {
        "id",
        "reference",
        "full_name",
        "phone",
        "priority",
        "status",
        "submitted_at",
        "waiting_minutes",
        "long_wait",
    }
    assert row["priority"] == "emergency"
    page = await as_caller(client, who["reception"], "GET", "/staff/queue")
    for text in (queue.text, page.text):
        assert "a very private detail" not in text
        assert title not in text
        assert "RF-" not in text
