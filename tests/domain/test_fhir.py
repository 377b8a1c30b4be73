"""The questionnaire as FHIR R4: parsed by the fhir.resources models, complete, bilingual."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire

from service.questionnaire import Language, load_questionnaire, to_fhir_questionnaire
from service.questionnaire._fhir import TRANSLATION

BASE = "https://clinic.example/fhir"

# fhir.resources 8 models R5 at the top level and R4B (4.3) in fhir.resources.R4B; its
# Questionnaire is the R4 structure.


def _walk(items: list[Any]) -> list[Any]:
    found = []
    for item in items:
        found.append(item)
        found.extend(_walk(item.get("item", [])))
    return found


@pytest.mark.parametrize("language", ["en", "ml"])
def test_parses_as_a_fhir_questionnaire(language: Language) -> None:
    resource = to_fhir_questionnaire(load_questionnaire(), language, base=BASE)
    parsed = FhirQuestionnaire.model_validate(resource)
    assert parsed.version == "2026.11.1"
    assert parsed.language == language
    assert parsed.status == "active"
    assert parsed.name == "ClinicIntake"
    assert parsed.item is not None
    assert [group.linkId for group in parsed.item] == [
        "patient", "concern", "leakage", "warning_signs", "nerves", "medicines", "fertility",
        "consent",
    ]  # fmt: skip


def test_every_item_with_required_enable_when_and_options() -> None:
    questionnaire = load_questionnaire()
    resource = to_fhir_questionnaire(questionnaire, "en", base=BASE)
    items = {item["linkId"]: item for item in _walk(resource["item"])}
    assert set(questionnaire.items) <= set(items)
    for link_id, item in questionnaire.items.items():
        rendered = items[link_id]
        assert rendered["required"] is item.required
        assert [
            option["valueCoding"]["code"] for option in rendered.get("answerOption", [])
        ] == list(item.codes)
        # Every answer code names its system: one per item, under the clinic's base.
        assert {option["valueCoding"]["system"] for option in rendered.get("answerOption", [])} <= {
            f"{BASE}/answer/{link_id}"
        }
    assert items["leakage"]["enableWhen"] == [
        {
            "question": "main_concern",
            "operator": "=",
            "answerCoding": {"system": f"{BASE}/answer/main_concern", "code": "semen_leakage"},
        }
    ]
    assert items["self_harm_thoughts"]["enableWhen"] == [
        {"question": "antidepressant", "operator": "=", "answerBoolean": True}
    ]
    assert items["leakage_when"]["repeats"] is True
    assert items["leakage_when"]["type"] == "choice"
    assert items["concern_details"]["maxLength"] == 2000
    assert {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 1} in items[
        "blood_in_semen_episodes"
    ]["extension"]


def test_other_language_rides_in_the_translation_extension() -> None:
    resource = to_fhir_questionnaire(load_questionnaire(), "ml", base=BASE)
    fever = next(item for item in _walk(resource["item"]) if item["linkId"] == "fever")
    assert fever["text"] == "കഴിഞ്ഞ ചില ദിവസങ്ങളിൽ പനിയോ കുളിരോ ഉണ്ടായിട്ടുണ്ടോ?"
    (translation,) = fever["_text"]["extension"]
    assert translation["url"] == TRANSLATION
    assert translation["extension"] == [
        {"url": "lang", "valueCode": "en"},
        {"url": "content", "valueString": "Have you had a fever or chills in the last few days?"},
    ]
    for item in _walk(resource["item"]):
        assert item["_text"]["extension"][0]["url"] == TRANSLATION, item["linkId"]
        for option in item.get("answerOption", []):
            assert option["valueCoding"]["_display"]["extension"][0]["url"] == TRANSLATION


def test_consent_text_and_version_are_in_the_resource() -> None:
    resource = to_fhir_questionnaire(load_questionnaire(), "en", base=BASE)
    terms = next(
        item for item in _walk(resource["item"]) if item["linkId"] == "consent_privacy-consent-text"
    )
    assert terms["type"] == "display"
    assert terms["extension"] == [
        {"url": f"{BASE}/StructureDefinition/consent-version", "valueString": "privacy-2026.11.1"}
    ]


def test_the_canonical_url_is_the_file_s_else_under_the_base() -> None:
    questionnaire = replace(load_questionnaire(), url=None)
    assert to_fhir_questionnaire(questionnaire, "en", base=BASE + "/")["url"] == (
        f"{BASE}/Questionnaire/{questionnaire.name}"
    )
    url = "https://forms.example.org/Questionnaire/intake"
    resource = to_fhir_questionnaire(replace(questionnaire, url=url), "en", base=BASE)
    assert FhirQuestionnaire.model_validate(resource).url == url
