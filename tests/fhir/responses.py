"""QuestionnaireResponses as an SDC form filler makes them from the served Questionnaire: written
here from the Questionnaire JSON alone, not with the service's own FHIR code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.staff.support import Client

FHIR_JSON = "application/fhir+json"
CREATE = "/fhir/QuestionnaireResponse"

JsonObject = dict[str, Any]


async def served(client: Client, language: str = "en") -> JsonObject:
    """The served Questionnaire, as a form filler fetches it."""
    found = await client.get(f"/fhir/Questionnaire?lang={language}")
    assert found.status_code == 200, found.text
    [entry] = found.json()["entry"]
    questionnaire: JsonObject = entry["resource"]
    return questionnaire


def response_to(
    questionnaire: JsonObject, answers: Mapping[str, object], language: str = "en"
) -> JsonObject:
    """A completed QuestionnaireResponse with `answers` (JSON API values, by linkId): one group
    per group with answers, answer codings copied from the item's answerOption."""
    groups = []
    for group in questionnaire["item"]:
        items = [
            {"linkId": item["linkId"], "text": item["text"], "answer": _answers(item, value)}
            for item in group["item"]
            if (value := answers.get(item["linkId"])) is not None
        ]
        if items:
            groups.append({"linkId": group["linkId"], "text": group["text"], "item": items})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": "completed",
        "language": language,
        "authored": "2026-12-01T09:30:00+05:30",
        "item": groups,
    }


def _answers(item: JsonObject, value: object) -> list[JsonObject]:
    values = value if isinstance(value, list) else [value]
    match item["type"]:
        case "boolean":
            return [{"valueBoolean": v} for v in values]
        case "integer":
            return [{"valueInteger": v} for v in values]
        case "date":
            return [{"valueDate": v} for v in values]
        case "choice":
            options = {o["valueCoding"]["code"]: o["valueCoding"] for o in item["answerOption"]}
            return [{"valueCoding": _plain(options[str(v)])} for v in values]
        case _:
            return [{"valueString": v} for v in values]


def _plain(coding: JsonObject) -> JsonObject:
    """The coding as a filler copies it: system, code and display (no translations)."""
    return {key: coding[key] for key in ("system", "code", "display") if key in coding}


def item_of(response: JsonObject, link_id: str) -> JsonObject:
    """The item `link_id` in `response`, at any depth."""
    stack = list(response.get("item", []))
    while stack:
        item = stack.pop()
        if item.get("linkId") == link_id:
            found: JsonObject = item
            return found
        stack.extend(item.get("item", []))
    raise AssertionError(f"no item {link_id}")
