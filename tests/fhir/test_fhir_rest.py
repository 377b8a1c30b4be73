"""The FHIR REST surface at `/fhir`: metadata, the Questionnaire by id and by canonical URL, and
every error as an OperationOutcome."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fhir.test_independent_validator import errors, validate

Client = AsyncTestClient[Litestar]
FHIR_JSON = "application/fhir+json"


async def fhir(client: Client, path: str, status: int = 200, **headers: str) -> dict[str, Any]:
    response = await client.get(path, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body: dict[str, Any] = response.json()
    return body


async def test_metadata_lists_exactly_what_is_served(client: Client) -> None:
    statement = await fhir(client, "/fhir/metadata")
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["format"] == [FHIR_JSON]
    [rest] = statement["rest"]
    served = {
        resource["type"]: sorted(i["code"] for i in resource["interaction"])
        for resource in rest["resource"]
    }
    assert served == {
        "Questionnaire": ["read", "search-type"],
        "QuestionnaireResponse": ["create", "read"],
        "CodeSystem": ["read", "search-type"],
        "StructureDefinition": ["read", "search-type"],
    }
    # Each listed read and search answers (create and read of responses: test_fhir_submit.py);
    # and the statement is valid R4 to an independent validator.
    for kind in ("Questionnaire", "CodeSystem", "StructureDefinition"):
        found = await fhir(client, f"/fhir/{kind}")
        for entry in found["entry"]:
            resource = entry["resource"]
            assert resource["resourceType"] == kind
            assert await fhir(client, f"/fhir/{kind}/{resource['id']}") == resource
            by_url = await fhir(client, f"/fhir/{kind}?url={resource['url']}")
            assert [e["resource"] for e in by_url["entry"]] == [resource]
    [issues] = validate([statement])
    assert errors(statement, issues) == []


async def test_the_questionnaire_by_id_is_the_api_s_in_either_language(client: Client) -> None:
    for lang in ("en", "ml"):
        served = (await client.get(f"/api/v1/questionnaire?lang={lang}")).json()
        by_id = await fhir(client, f"/fhir/Questionnaire/{served['id']}?lang={lang}")
        assert by_id == served
    by_header = await fhir(
        client, f"/fhir/Questionnaire/{served['id']}", **{"accept-language": "ml"}
    )
    assert by_header["language"] == "ml"


async def test_search_by_canonical_url_with_or_without_version(client: Client) -> None:
    served = (await client.get("/api/v1/questionnaire")).json()
    url, version = served["url"], served["version"]
    for query, total in [
        (f"?url={url}", 1),
        (f"?url={url}|{version}", 1),
        ("", 1),
        (f"?url={url}|0.0.0-never", 0),
        ("?url=https://elsewhere.example/Questionnaire/x", 0),
    ]:
        bundle = await fhir(client, f"/fhir/Questionnaire{query}".replace("|", "%7C"))
        assert (bundle["resourceType"], bundle["type"], bundle["total"]) == (
            "Bundle",
            "searchset",
            total,
        ), query
        assert [entry["resource"] for entry in bundle["entry"]] == [served] * total


async def test_errors_on_the_fhir_surface_are_operation_outcomes(client: Client) -> None:
    """Unknown ids, unknown resource types, bad parameters, wrong methods: each an
    OperationOutcome with its status, never problem details or an HTML page."""
    cases = [
        ("GET", "/fhir/Questionnaire/no-such-form", 404, "not-found"),
        ("GET", "/fhir/CodeSystem/no-such-system", 404, "not-found"),
        ("GET", "/fhir/StructureDefinition/no-such-extension", 404, "not-found"),
        ("GET", "/fhir/QuestionnaireResponse/not-a-uuid", 404, "not-found"),
        ("PUT", "/fhir/QuestionnaireResponse", 405, "not-supported"),
        ("GET", "/fhir/Patient/123", 404, "not-found"),
        ("GET", "/fhir/Questionnaire?lang=fr", 422, "invalid"),
        ("DELETE", "/fhir/metadata", 405, "not-supported"),
    ]
    for method, path, status, code in cases:
        response = await client.request(method, path)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith(FHIR_JSON), path
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome", path
        assert [issue["code"] for issue in outcome["issue"]] == [code] * len(outcome["issue"])
        assert all(issue["diagnostics"] for issue in outcome["issue"])
        assert "Traceback" not in response.text
    bad_language = (await client.get("/fhir/Questionnaire?lang=fr")).json()
    assert [issue.get("expression") for issue in bad_language["issue"]] == [["lang"]]
    # And they are valid R4 OperationOutcomes.
    outcome = (await client.get("/fhir/Patient/123")).json()
    [issues] = validate([outcome])
    assert errors(outcome, issues) == []
