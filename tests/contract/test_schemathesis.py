"""schemathesis against the live server's own OpenAPI schema: no 5xx, every answer as documented.

A real uvicorn process serves the app on a fresh database. schemathesis reads
`/schema/openapi.json` from it and calls every operation in it, with data that fits the schema
(positive) and data that does not (negative), in its examples, coverage and fuzzing phases.
Staff operations are called with the API token of a role the route allows, so they are
exercised past the access check (schemathesis also calls them without credentials, and checks
the 401); the intake id in paths is a real intake, so the success answers are checked too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from litestar import Litestar
from litestar.routes import HTTPRoute
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.case import Case
from schemathesis.schemas import BaseSchema
from sqlalchemy.engine import URL

from service.staff import Role
from service.web.access import allowed_roles
from tests.patients import intake_body
from tests.server import LiveServer, live_server
from tests.staff.support import make_staff

# Small, fixed budgets and a fixed seed: the same cases every run, well under two minutes.
CONFIG = {
    "seed": 7,
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "generation": {
        "mode": "all",  # positive and negative
        "max-examples": 12,
        "deterministic": True,
        "database": "none",
        "no-shrink": True,
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "request-timeout": 30,
    "operations": [
        {
            # The questionnaire's own rules (answers required depending on earlier answers,
            # consent, dates in range) go beyond JSON Schema: a schema-valid body can still be
            # a 422 with one error per linkId, and a repeated Idempotency-Key a 409.
            "include-operation-id": "submitIntake",
            "checks": {"positive_data_acceptance": {"expected-statuses": [201, 409, 422]}},
        },
        {
            # The same for a QuestionnaireResponse, whose schema is FHIR's open resource: a
            # schema-valid object is mostly not a completed response to the served form.
            "include-operation-id": "createFhirQuestionnaireResponse",
            "checks": {"positive_data_acceptance": {"expected-statuses": [201, 409, 422]}},
        },
    ],
}
# The role whose token calls a staff operation: the doctor where allowed (most routes).
PREFERRED_ROLES = (Role.DOCTOR, Role.RECEPTION, Role.ADMIN)


def _callers(app: Litestar) -> dict[tuple[str, str], Role | None]:
    """(METHOD, OpenAPI path) -> the role to call it as (None: public), from the app's routes."""
    found: dict[tuple[str, str], Role | None] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{([^}:]+):[^}]+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            declared = allowed_roles(handler)
            role = None
            if isinstance(declared, frozenset):
                role = next(role for role in PREFERRED_ROLES if role in declared)
            for method in handler.http_methods:
                found[method, path] = role
    return found


@dataclass
class LiveApi:
    server: LiveServer
    intake_id: str
    # (METHOD, path) -> the bearer header of a role the route allows (none for public routes)
    credentials: dict[tuple[str, str], dict[str, str]]


@pytest.fixture
def live_api(
    database_url: URL, service_env: dict[str, str], app: Litestar, tmp_path: Path
) -> Iterator[LiveApi]:
    tokens = asyncio.run(make_staff(database_url))
    credentials = {
        operation: {"Authorization": f"Bearer {tokens[f'{role}-token']}"} if role else {}
        for operation, role in _callers(app).items()
    }
    with live_server(service_env, tmp_path / "server.log") as server:
        created = httpx.post(f"{server.base_url}/api/v1/intakes", json=intake_body(), timeout=30)
        assert created.status_code == 201, created.text
        yield LiveApi(server, created.json()["id"], credentials)


@pytest.fixture
def api_schema(live_api: LiveApi, request: pytest.FixtureRequest) -> BaseSchema:
    # schemathesis 4.32 renames the test node through `_nodeid`, which pytest 9.2 no longer has.
    request.node._nodeid = request.node.nodeid
    base_url = live_api.server.base_url
    config = SchemathesisConfig.from_dict(
        {**CONFIG, "base-url": base_url, "parameters": {"path.intake_id": live_api.intake_id}}
    )
    return schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_answers_as_its_schema_says(case: Case, live_api: LiveApi) -> None:
    operation = case.operation.method.upper(), case.operation.path
    case.call_and_validate(headers=live_api.credentials[operation])
    assert live_api.server.process.poll() is None, live_api.server.log()
