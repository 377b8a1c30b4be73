"""The OpenAPI schema at /schema/openapi.json describes every API route as the server answers it.

The routes come from the app's own route table, so a new API route cannot be left out of the
schema, nor documented without its credentials and error responses. schemathesis
(tests/contract) then checks the answers themselves against this schema.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from service.web.access import allowed_roles
from tests.staff.support import Client

PROBLEM = "application/problem+json"
FHIR_JSON = "application/fhir+json"
# Each surface's errors: problem details on the API, OperationOutcomes on /fhir.
ERROR_BODIES = {
    "api": (PROBLEM, "#/components/schemas/Problem"),
    "fhir": (FHIR_JSON, "#/components/schemas/OperationOutcome"),
}
Schema = dict[str, Any]


@pytest.fixture
async def openapi(client: Client) -> Schema:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: Schema = response.json()
    return document


def api_routes(app: Litestar) -> list[tuple[str, str, frozenset[str] | str]]:
    """(method, OpenAPI path, "public" or the roles) for every route under /api/, /health and
    /fhir/."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(
            ("/api/", "/health", "/fhir/")
        ):
            continue
        path = re.sub(r"\{([^}:]+):[^}]+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            if handler.http_methods <= {"OPTIONS", "HEAD"}:
                continue  # Litestar's own answers to OPTIONS, not part of the API
            declared = allowed_roles(handler)
            assert declared is not None, f"{path} declares no access"
            roles = declared if declared == "public" else frozenset(r.value for r in declared)
            found.extend((method.lower(), path, roles) for method in handler.http_methods)
    return found


def resolve(document: Schema, schema: Schema) -> Schema:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_api_route_is_documented_with_credentials_and_errors(
    app: Litestar, openapi: Schema
) -> None:
    routes = api_routes(app)
    assert len(routes) >= 9
    assert {path for _, path, _ in routes} >= {
        "/fhir/QuestionnaireResponse",
        "/fhir/QuestionnaireResponse/{intake_id}",
        "/fhir/CodeSystem/{code_system_id}",
        "/fhir/StructureDefinition",
    }
    wrong = [
        f"{method.upper()} {path}: {fault}"
        for method, path, roles in routes
        for fault in faults(path, openapi["paths"].get(path, {}).get(method), roles)
    ]
    assert not wrong, "\n".join(wrong)


def faults(path: str, operation: Schema | None, roles: frozenset[str] | str) -> list[str]:
    """What the schema gets wrong or leaves out about one operation."""
    if not operation:
        return ["not in the OpenAPI schema"]
    responses = operation["responses"]
    errors = {status for status in responses if status[0] in "45"}
    found = [] if operation.get("operationId") else ["no operationId"]
    if not any(status.startswith("2") for status in responses):
        found.append("no success response")
    found += credential_faults(operation, roles, errors)
    if "{intake_id}" in path and "404" not in errors:
        found.append("no 404 for an unknown intake")
    # A path that does not match (an id that is no UUID) is a 404, not a 422.
    parameters = [p for p in operation.get("parameters", []) if p["in"] != "path"]
    if (parameters or operation.get("requestBody")) and "422" not in errors:
        found.append("takes input but documents no 422")
    media_type, schema = ERROR_BODIES["fhir" if path.startswith("/fhir/") else "api"]
    for status in errors:
        content = responses[status].get("content", {})
        if path == "/health":
            continue  # its 503 is the health document itself
        if list(content) != [media_type] or content[media_type]["schema"] != {"$ref": schema}:
            found.append(f"{status} is not {media_type}: {list(content)}")
    for status in {"429", "503"} & errors:
        if not responses[status].get("headers", {}).get("Retry-After", {}).get("required"):
            found.append(f"{status} without Retry-After")
    return found


def credential_faults(
    operation: Schema, roles: frozenset[str] | str, errors: set[str]
) -> list[str]:
    if roles == "public":
        return ["public, yet asks for credentials"] if operation.get("security") else []
    found = []
    # Either credential, each naming exactly the roles the server lets in.
    expected = [{"apiToken": sorted(roles)}, {"staffSession": sorted(roles)}]
    if operation.get("security") != expected:
        found.append(f"security {operation.get('security')}, expected {expected}")
    if missing := {"401", "403", "503"} - errors:
        found.append(f"no {sorted(missing)} (no credentials, wrong role, database down)")
    return found


def test_the_problem_schema_is_the_contracts(openapi: Schema) -> None:
    problem = openapi["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}
    item = resolve(openapi, problem["properties"]["errors"]["items"])
    assert set(item["required"]) == {"field", "message"}


def test_credentials_are_described(openapi: Schema) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["apiToken"]["description"],
    }
    assert schemes["staffSession"]["type"] == "apiKey"
    assert schemes["staffSession"]["in"] == "cookie"
    assert schemes["staffSession"]["name"] == "staff_session"  # `__Host-` behind HTTPS


def test_media_types_and_headers_are_the_servers(openapi: Schema) -> None:
    paths = openapi["paths"]
    submit = paths["/api/v1/intakes"]["post"]
    assert set(submit["responses"]) >= {"201", "400", "409", "413", "415", "422", "429", "503"}
    assert submit["responses"]["201"]["headers"]["Location"]["required"] is True
    assert list(submit["requestBody"]["content"]) == ["application/json"]
    [body] = submit["requestBody"]["content"]["application/json"]["schema"]["allOf"]
    assert resolve(openapi, body)["additionalProperties"] is False
    [key] = [p for p in submit["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key"
    assert key["required"] is False

    questionnaire = paths["/api/v1/questionnaire"]["get"]["responses"]["200"]
    assert list(questionnaire["content"]) == ["application/fhir+json"]

    pdf = paths["/api/v1/intakes/{intake_id}/summary.pdf"]["get"]["responses"]
    assert list(pdf["200"]["content"]) == ["application/pdf"]
    assert pdf["200"]["headers"]["ETag"]["required"] is True
    assert pdf["304"]["headers"]["ETag"]["required"] is True
    assert "content" not in pdf["304"]

    csv = paths["/api/v1/queue.csv"]["get"]["responses"]["200"]
    assert list(csv["content"]) == ["text/csv"]
    assert csv["headers"]["Content-Disposition"]["required"] is True

    health = paths["/health"]["get"]["responses"]
    assert set(health) == {"200", "503"}
    assert health["503"]["headers"]["Retry-After"]["required"] is True


def test_pages_static_files_and_the_schema_itself_are_left_out(openapi: Schema) -> None:
    outside = [
        path for path in openapi["paths"] if not path.startswith(("/api/", "/health", "/fhir/"))
    ]
    assert not outside


async def test_the_documented_fhir_submission_is_accepted(client: Client, openapi: Schema) -> None:
    create = openapi["paths"]["/fhir/QuestionnaireResponse"]["post"]
    assert list(create["requestBody"]["content"]) == [FHIR_JSON]
    [example] = create["requestBody"]["content"][FHIR_JSON]["schema"]["examples"]
    response = await client.post(
        "/fhir/QuestionnaireResponse", json=example, headers={"content-type": FHIR_JSON}
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/fhir/QuestionnaireResponse/{response.json()['id']}"


async def test_the_documented_submission_is_accepted(client: Client, openapi: Schema) -> None:
    body = openapi["paths"]["/api/v1/intakes"]["post"]["requestBody"]["content"]
    [example] = body["application/json"]["schema"]["examples"]
    response = await client.post("/api/v1/intakes", json=example)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/intakes/{response.json()['id']}"
    assert response.json()["priority"] == "routine"
