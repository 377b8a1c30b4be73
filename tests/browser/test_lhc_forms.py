"""Any SDC form filler is a way in: LHC-Forms (the NLM's renderer, vendored) renders the served
Questionnaire in Chromium, a patient fills it by clicking and typing, in English and in
Malayalam, and its QuestionnaireResponse, POSTed to `/fhir/QuestionnaireResponse`, is stored
with the same answers, level and red flags as the same answers sent to `POST /api/v1/intakes`."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from service.models import Intake, RedFlag
from tests.browser.lhc_forms import LhcForm
from tests.browser.support import Site
from tests.chromium import off_loop
from tests.databases import in_database
from tests.patients import patient_json

NAMES = {"en": "Arjun Menon", "ml": "അർജുൻ മേനോൻ"}


def patient(language: str) -> dict[str, object]:
    """Leakage (a group shown by an answer, two picks of a multi-choice), blood in the semen
    with its follow-up questions, a fever, medicines with an antidepressant: red flags."""
    return patient_json(
        full_name=NAMES[language],
        birth_date="1990-05-17",
        phone="+91 98470 12345",
        preferred_language=language,
        main_concern="semen_leakage",
        leakage_when=["arousal", "sleep"],
        symptom_duration="1_6_months",
        blood_in_semen=True,
        blood_in_semen_episodes=3,
        blood_in_semen_since="lt_1_month",
        fever=True,
        takes_medicines=True,
        medicines_list="Sertraline 50 mg",
        antidepressant=True,
        symptoms_after_new_medicine=False,
        self_harm_thoughts=False,
        consent_contact=False,
    )


def stored(site: Site, intake_id: str) -> tuple[Any, ...]:
    """What the clinic acts on, as stored: level, current red flags, answers, language."""
    intake = Intake.id == UUID(intake_id)
    columns = select(Intake.computed_priority, Intake.answers, Intake.language).where(intake)
    flags = select(RedFlag.rule_id).where(
        RedFlag.intake_id == UUID(intake_id), RedFlag.superseded_at.is_(None)
    )
    [row] = off_loop(lambda: asyncio.run(in_database(site.database_url, columns)))
    fired = off_loop(lambda: asyncio.run(in_database(site.database_url, flags)))
    answers = row.answers if isinstance(row.answers, dict) else json.loads(row.answers)
    return row.computed_priority, sorted(rule for (rule,) in fired), answers, row.language


@pytest.mark.parametrize("language", ["en", "ml"])
def test_lhc_forms_fills_the_served_questionnaire_and_its_response_is_an_intake(
    browser: Browser, site: Site, language: str
) -> None:
    answers = patient(language)
    with httpx.Client(base_url=site.base_url, timeout=30) as api:
        questionnaire = api.get(f"/fhir/Questionnaire/clinic-intake?lang={language}").json()
        context = browser.new_context()
        try:
            form = LhcForm(context.new_page())
            form.show(questionnaire)
            form.fill(answers)
            response = form.response()
            assert form.refused == []  # nothing but the vendored files was asked for
        finally:
            context.close()
        assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"

        by_fhir = api.post(
            "/fhir/QuestionnaireResponse",
            json=response,
            headers={"content-type": "application/fhir+json"},
        )
        assert by_fhir.status_code == 201, by_fhir.text
        by_json = api.post("/api/v1/intakes", json={"language": language, "answers": answers})
        assert by_json.status_code == 201, by_json.text

    fhir_intake = stored(site, by_fhir.json()["id"])
    json_intake = stored(site, by_json.json()["id"])
    assert fhir_intake == json_intake
    level, flags, kept, stored_language = fhir_intake
    assert level == by_json.json()["priority"]
    assert flags == sorted(flag["rule"] for flag in by_json.json()["red_flags"])
    assert flags  # red flags were raised: the comparison is not between two empty lists
    assert kept["leakage_when"] == ["arousal", "sleep"]
    assert stored_language == language
