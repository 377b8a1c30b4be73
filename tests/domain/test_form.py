"""An HTML form post becomes typed answers for the validator, keeping what it cannot read."""

from __future__ import annotations

from service.questionnaire import answers_from_form, load_questionnaire, validate_answers
from tests.domain.support import TODAY, patient


def test_form_fields_become_typed_answers() -> None:
    form = {
        "fever": "no",
        "chest_pain": "yes",
        "trying_to_conceive": "yes",
        "trying_months": " 14 ",
        "leakage_when": ["arousal", "sleep"],
        "email": "",
        "concern_details": "  രണ്ടു മാസമായി  ",
        "csrf_token": "abc",
    }
    answers = answers_from_form(load_questionnaire(), form)
    assert answers == {
        "fever": False,
        "chest_pain": True,
        "trying_to_conceive": True,
        "trying_months": 14,
        "leakage_when": ["arousal", "sleep"],
        "email": None,
        "concern_details": "  രണ്ടു മാസമായി  ",
    }


def test_unreadable_values_stay_text_for_the_validator_to_report() -> None:
    answers = answers_from_form(
        load_questionnaire(),
        {"fever": "maybe", "trying_months": "about a year", "blood_in_semen_episodes": "൧൨"},
    )
    assert answers == {
        "fever": "maybe",
        "trying_months": "about a year",
        "blood_in_semen_episodes": 12,
    }


def test_a_form_post_validates_like_the_api() -> None:
    form = {
        key: ("yes" if value is True else "no" if value is False else str(value))
        for key, value in patient(trying_to_conceive=True, trying_months=12).items()
    }
    result = validate_answers(
        load_questionnaire(), answers_from_form(load_questionnaire(), form), TODAY
    )
    assert result.errors == ()
    assert result.answers["trying_months"] == 12
