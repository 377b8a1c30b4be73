"""`GET /api/v1/questionnaire`: a FHIR R4 Questionnaire with every linkId of the brief."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.questionnaire import load_questionnaire

BRIEF_LINK_IDS = {
    "full_name",
    "birth_date",
    "phone",
    "email",
    "preferred_language",
    "main_concern",
    "concern_details",
    "symptom_duration",
    "leakage_when",
    "leakage_frequency",
    "blood_in_semen",
    "blood_in_semen_episodes",
    "blood_in_semen_since",
    "urination_difficulty",
    "urination_pain",
    "unable_to_urinate",
    "blood_in_urine",
    "semen_bad_smell",
    "semen_abnormal_appearance",
    "premature_ejaculation",
    "painful_ejaculation",
    "erectile_difficulty",
    "fever",
    "pelvic_pain",
    "urethral_discharge",
    "genital_sores",
    "testicular_pain_sudden",
    "testicular_lump",
    "erection_over_4h",
    "penile_injury",
    "chest_pain",
    "spine_or_groin_surgery",
    "spine_injury",
    "saddle_numbness",
    "new_bladder_bowel_problem",
    "leg_weakness",
    "takes_medicines",
    "medicines_list",
    "antidepressant",
    "symptoms_after_new_medicine",
    "self_harm_thoughts",
    "trying_to_conceive",
    "trying_months",
    "consent_privacy",
    "consent_contact",
}


def link_ids(items: list[dict]) -> set[str]:  # type: ignore[type-arg]
    found: set[str] = set()
    for item in items:
        found.add(item["linkId"])
        found |= link_ids(item.get("item", []))
    return found


@pytest.mark.parametrize("lang", ["en", "ml"])
async def test_the_questionnaire_parses_as_fhir_and_has_every_link_id(
    client: AsyncTestClient[Litestar], lang: str
) -> None:
    response = await client.get(f"/api/v1/questionnaire?lang={lang}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    parsed = FhirQuestionnaire.model_validate(body)
    assert parsed.version == load_questionnaire().version
    assert link_ids(body["item"]) >= BRIEF_LINK_IDS
    leakage = next(i for i in body["item"] if i["linkId"] == "leakage")
    assert leakage["enableWhen"][0]["question"] == "main_concern"


def all_items(items: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    found: list[dict] = []  # type: ignore[type-arg]
    for item in items:
        found.append(item)
        found += all_items(item.get("item", []))
    return found


@pytest.mark.parametrize("lang", ["en", "ml"])
async def test_the_form_language_is_preselected_on_its_option_not_as_an_initial_answer(
    client: AsyncTestClient[Litestar], lang: str
) -> None:
    """FHIR R4's que-11: an item with answerOptions preselects one with `initialSelected`;
    `initial` beside them is invalid (an independent validator refused it)."""
    items = all_items((await client.get(f"/api/v1/questionnaire?lang={lang}")).json()["item"])
    assert [item["linkId"] for item in items if "answerOption" in item and "initial" in item] == []
    [language] = [item for item in items if item["linkId"] == "preferred_language"]
    selected = [
        o["valueCoding"]["code"] for o in language["answerOption"] if o.get("initialSelected")
    ]
    assert selected == [lang]


async def test_the_language_follows_lang_then_accept_language(
    client: AsyncTestClient[Litestar],
) -> None:
    english = (await client.get("/api/v1/questionnaire?lang=en")).json()["title"]
    malayalam = (await client.get("/api/v1/questionnaire?lang=ml")).json()["title"]
    by_header = (
        await client.get("/api/v1/questionnaire", headers={"accept-language": "ml"})
    ).json()["title"]
    assert english != malayalam
    assert by_header == malayalam


async def test_an_unknown_language_gets_a_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/questionnaire?lang=fr")
    assert response.status_code in {400, 422}
    assert response.headers["content-type"].startswith("application/problem+json")
