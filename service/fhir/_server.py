"""What the FHIR REST surface (`/fhir`) answers besides the resources: pure, no web, no clock.

The CapabilityStatement lists exactly the interactions served; errors are OperationOutcomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

JsonObject = dict[str, Any]

FHIR_VERSION = "4.0.1"
CAPABILITIES_DATE = "2026-12-01"
"""When the interactions listed last changed (CapabilityStatement.date, required in R4)."""

# The OperationOutcome issue type of each HTTP status the surface answers.
_ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}


_BY_URL = {
    "name": "url",
    "type": "uri",
    "documentation": "The canonical URL, with or without |version",
}

# What `/fhir` serves, and nothing more (each listed interaction has its route and its test).
SERVED_RESOURCES: list[JsonObject] = [
    {
        "type": "Questionnaire",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [_BY_URL],
    },
    {
        "type": "QuestionnaireResponse",
        "documentation": "create: anyone, a completed response to the served Questionnaire, "
        "rate-limited per address and idempotent by Idempotency-Key; it is triaged and stored "
        "as an intake, whose id is the response's. read: doctors and admins, audited.",
        "interaction": [{"code": "create"}, {"code": "read"}],
        "updateCreate": False,
        "conditionalCreate": False,
    },
    {
        "type": "CodeSystem",
        "documentation": "The clinic's own: answer options, red-flag rules, levels, queue "
        "statuses and rule sets",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [_BY_URL],
    },
    {
        "type": "StructureDefinition",
        "documentation": "The clinic's one extension: the consent text's version",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [_BY_URL],
    },
]


def capability_statement(software_version: str, base_url: str | None) -> JsonObject:
    """The server's CapabilityStatement: what `/fhir` serves, and nothing more."""
    statement: JsonObject = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITIES_DATE,
        "kind": "instance",
        "software": {"name": "Clinic intake service", "version": software_version},
        "implementation": {"description": "The clinic's pre-consultation intake form"},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "description": "Reading a QuestionnaireResponse takes a doctor's or an "
                    "admin's staff session or API token (Authorization: Bearer); all else is "
                    "public.",
                },
                "resource": SERVED_RESOURCES,
            }
        ],
    }
    if base_url:
        statement["implementation"]["url"] = f"{base_url.rstrip('/')}/fhir"
    return statement


def search_set(resources: Iterable[JsonObject]) -> JsonObject:
    """A `searchset` Bundle of `resources`, all of them matches."""
    found = list(resources)
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "entry": [{"resource": resource, "search": {"mode": "match"}} for resource in found],
    }


def operation_outcome(
    status: int, detail: str, problems: Iterable[tuple[str, str]] = ()
) -> JsonObject:
    """The OperationOutcome of an error answer: one issue per (field or linkId, message), or
    one issue with `detail` when no field is named."""
    code = _ISSUE_TYPES.get(status, "exception")
    severity = "error" if status < 500 or status == 503 else "fatal"
    issues: list[JsonObject] = [
        {"severity": severity, "code": code, "diagnostics": message, "expression": [field]}
        for field, message in problems
    ] or [{"severity": severity, "code": code, "diagnostics": detail}]
    return {"resourceType": "OperationOutcome", "issue": issues}


def receipt_outcome(reference: str, level: str, advice: str, *, priority_system: str) -> JsonObject:
    """What a patient who submitted through a form filler is told (`Prefer:
    return=OperationOutcome`): what to do next first (a warning for an emergency), then the
    reference code to give at the clinic."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning" if level == "emergency" else "information",
                "code": "informational",
                "details": {
                    "coding": [{"system": priority_system, "code": level}],
                    "text": level,
                },
                "diagnostics": advice,
            },
            {
                "severity": "information",
                "code": "informational",
                "details": {"text": reference},
                "diagnostics": f"Reference code {reference}",
            },
        ],
    }
