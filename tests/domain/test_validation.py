"""Answer validation: every kind of bad answer gives its error, in both languages, all at once."""

from __future__ import annotations

from datetime import date

import pytest

from service.questionnaire import (
    Language,
    ValidationResult,
    load_questionnaire,
    validate_answers,
)
from tests.domain.support import TODAY, patient


def _validate(raw: dict[str, object], language: Language = "en") -> ValidationResult:
    return validate_answers(load_questionnaire(), raw, TODAY, language=language)


def _errors(**answers: object) -> list[tuple[str, str]]:
    return [(error.field, error.code) for error in _validate(patient(**answers)).errors]


def test_the_base_patient_is_valid_and_cleaned() -> None:
    result = _validate(patient(full_name="  Ravi  Kumar ", email="Ravi@Example.COM"))
    assert result.ok
    assert result.answers["full_name"] == "Ravi  Kumar"
    assert result.answers["phone"] == "+919876543210"
    assert result.answers["email"] == "Ravi@example.com"
    assert result.answers["birth_date"] == date(1990, 5, 15)
    assert result.answers["preferred_language"] == "en"  # the form's language by default
    assert list(result.answers) == [
        link_id for link_id in load_questionnaire().items if link_id in result.answers
    ]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param({"favourite_colour": "blue"}, [("favourite_colour", "unknown_item")],
                     id="unknown linkId"),
        pytest.param({"patient": "x"}, [("patient", "unknown_item")], id="a section is no item"),
        pytest.param({"fever": None}, [("fever", "required_yes_no")], id="blank yes/no"),
        pytest.param({"fever": ""}, [("fever", "required_yes_no")], id="empty yes/no"),
        pytest.param({"main_concern": None}, [("main_concern", "required")], id="blank choice"),
        pytest.param({"fever": "no"}, [("fever", "invalid_boolean")], id="string for yes/no"),
        pytest.param({"fever": 0}, [("fever", "invalid_boolean")], id="number for yes/no"),
        pytest.param({"trying_to_conceive": True, "trying_months": True},
                     [("trying_months", "invalid_integer")], id="bool for integer"),
        pytest.param({"trying_to_conceive": True, "trying_months": "12"},
                     [("trying_months", "invalid_integer")], id="string for integer"),
        pytest.param({"trying_to_conceive": True, "trying_months": 12.0},
                     [("trying_months", "invalid_integer")], id="float for integer"),
        pytest.param({"trying_to_conceive": True, "trying_months": 481},
                     [("trying_months", "out_of_range")], id="trying 481"),
        pytest.param({"trying_to_conceive": True, "trying_months": -1},
                     [("trying_months", "out_of_range")], id="trying -1"),
        pytest.param({"trying_to_conceive": True, "trying_months": None},
                     [("trying_months", "required")], id="required when shown"),
        pytest.param({"blood_in_semen": True, "blood_in_semen_episodes": 0,
                      "blood_in_semen_since": "lt_1_month"},
                     [("blood_in_semen_episodes", "out_of_range")], id="episodes 0"),
        pytest.param({"blood_in_semen": True},
                     [("blood_in_semen_episodes", "required"),
                      ("blood_in_semen_since", "required")],
                     id="blood sub-questions required"),
        pytest.param({"full_name": 42}, [("full_name", "invalid_text")], id="number for text"),
        pytest.param({"full_name": "x" * 121}, [("full_name", "too_long")], id="name 121"),
        pytest.param({"full_name": "   "}, [("full_name", "required")], id="name all spaces"),
        pytest.param({"full_name": "Ravi\x00"}, [("full_name", "control_characters")], id="NUL"),
        pytest.param({"full_name": "Ravi\nKumar"}, [("full_name", "control_characters")],
                     id="newline in a one-line answer"),
        pytest.param({"concern_details": "bad \x1b[31m"},
                     [("concern_details", "control_characters")], id="escape in free text"),
        pytest.param({"concern_details": "\ud800"}, [("concern_details", "control_characters")],
                     id="lone surrogate"),
        pytest.param({"concern_details": "ശ" * 2001}, [("concern_details", "too_long")],
                     id="details 2001"),
        pytest.param({"birth_date": "2023-02-30"}, [("birth_date", "invalid_date")],
                     id="impossible date"),
        pytest.param({"birth_date": "15/05/1990"}, [("birth_date", "invalid_date")],
                     id="date in another format"),
        pytest.param({"birth_date": "19900515"}, [("birth_date", "invalid_date")],
                     id="compact ISO date"),
        pytest.param({"birth_date": 19900515}, [("birth_date", "invalid_date")],
                     id="number for date"),
        pytest.param({"birth_date": "2026-11-21"}, [("birth_date", "date_in_future")],
                     id="born tomorrow"),
        pytest.param({"birth_date": "2010-11-21"}, [("birth_date", "age_out_of_range")],
                     id="age 15, 16 tomorrow"),
        pytest.param({"birth_date": "1915-11-20"}, [("birth_date", "age_out_of_range")],
                     id="age 111"),
        pytest.param({"phone": "12345"}, [("phone", "invalid_phone")], id="short phone"),
        pytest.param({"phone": "call me"}, [("phone", "invalid_phone")], id="words for phone"),
        pytest.param({"email": "ravi@"}, [("email", "invalid_email")], id="email without domain"),
        pytest.param({"email": "ravi.example.com"}, [("email", "invalid_email")], id="email no @"),
        pytest.param({"email": "ravi@local"}, [("email", "invalid_email")], id="email no dot"),
        pytest.param({"email": "a..b@example.com"}, [("email", "invalid_email")],
                     id="email double dot"),
        pytest.param({"main_concern": "headache"}, [("main_concern", "invalid_choice")],
                     id="unknown code"),
        pytest.param({"main_concern": ["fertility"]}, [("main_concern", "invalid_choice")],
                     id="list for choice"),
        pytest.param({"main_concern": "semen_leakage", "leakage_when": "sleep"},
                     [("leakage_when", "invalid_choices")], id="string for multi-choice"),
        pytest.param({"main_concern": "semen_leakage", "leakage_when": ["sleep", "dreams"]},
                     [("leakage_when", "invalid_choices")], id="unknown code in multi-choice"),
        pytest.param({"main_concern": "semen_leakage", "leakage_when": []},
                     [("leakage_when", "required")], id="empty multi-choice"),
        pytest.param({"preferred_language": "ta"}, [("preferred_language", "invalid_choice")],
                     id="unknown language"),
        pytest.param({"consent_privacy": False}, [("consent_privacy", "consent_required")],
                     id="consent refused"),
        pytest.param({"consent_privacy": None}, [("consent_privacy", "consent_required")],
                     id="consent missing"),
        pytest.param({"consent_contact": "yes"}, [("consent_contact", "invalid_boolean")],
                     id="string for optional yes/no"),
    ],
)  # fmt: skip
def test_bad_answer(answers: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert _errors(**answers) == expected


def test_every_error_is_collected_at_once() -> None:
    raw = patient(full_name="", phone="0", fever=None, chest_pain="yes", consent_privacy=False)
    raw["surprise"] = 1
    assert _errors(**raw) == [
        ("surprise", "unknown_item"),
        ("full_name", "required"),
        ("phone", "invalid_phone"),
        ("fever", "required_yes_no"),
        ("chest_pain", "invalid_boolean"),
        ("consent_privacy", "consent_required"),
    ]


def test_a_flood_of_unknown_answers_gets_a_short_list_and_a_count() -> None:
    raw = patient(**{f"made_up_{number}": True for number in range(500)})
    raw["k" * 5000] = 1
    errors = _validate(raw).errors
    assert [error.code for error in errors] == ["unknown_item"] * 20 + ["more_unknown_items"]
    assert errors[-1].field == "answers"
    assert "481 more answers" in errors[-1].message.en
    assert all(len(error.field) <= 81 for error in errors)


def test_every_error_has_english_and_malayalam() -> None:
    result = _validate(patient(fever=None, trying_to_conceive=True, trying_months=900), "ml")
    assert [error.code for error in result.errors] == ["required_yes_no", "out_of_range"]
    months = result.errors[1]
    assert months.message.en == "Please enter a number from 0 to 480."
    assert "0" in months.message.ml
    assert "480" in months.message.ml
    assert months.message_in("ml") == months.message.ml
    assert result.answers.get("fever") is None


def test_a_blank_yes_no_is_never_an_implicit_no() -> None:
    for link_id in ("blood_in_semen", "saddle_numbness", "erection_over_4h"):
        result = _validate(patient(**{link_id: None}))
        assert link_id not in result.answers
        assert [error.field for error in result.errors] == [link_id]


@pytest.mark.parametrize(
    ("birth_date", "ok"),
    [
        ("2010-11-20", True),  # 16 today
        ("2010-11-21", False),  # 15, 16 tomorrow
        ("1915-11-21", True),  # 110, 111 tomorrow
        ("1915-11-20", False),  # 111 today
    ],
)
def test_age_limits_are_inclusive_on_the_clinic_date(birth_date: str, ok: bool) -> None:
    assert _validate(patient(birth_date=birth_date)).ok is ok


def test_phone_numbers_are_stored_as_e164() -> None:
    for written in ("98765 43210", "+91 98765-43210", "098765 43210", "+91 (98765) 43210"):
        assert _validate(patient(phone=written)).answers["phone"] == "+919876543210"
    assert _validate(patient(phone="+44 20 7946 0958")).answers["phone"] == "+442079460958"


def test_free_text_in_malayalam_keeps_joiners_and_line_breaks() -> None:
    text = "രണ്ടു മാസമായി\r\nഉറക്കത്തിൽ\u200d\tപോകുന്നു"
    result = _validate(patient(concern_details=text))
    assert result.answers["concern_details"] == "രണ്ടു മാസമായി\nഉറക്കത്തിൽ\u200d\tപോകുന്നു"
    assert _validate(patient(concern_details="ശ" * 2000)).ok


def test_multi_choice_is_stored_in_form_order_without_repeats() -> None:
    raw = patient(main_concern="semen_leakage", leakage_when=["sleep", "arousal", "sleep"])
    assert _validate(raw).answers["leakage_when"] == ("arousal", "sleep")


def test_preferred_language_defaults_to_the_form_language() -> None:
    assert _validate(patient(), "ml").answers["preferred_language"] == "ml"
    assert _validate(patient(preferred_language="en"), "ml").answers["preferred_language"] == "en"


def test_date_objects_and_iso_strings_are_both_accepted() -> None:
    assert _validate(patient(birth_date="1990-05-15")).answers["birth_date"] == date(1990, 5, 15)


def test_answers_of_a_question_that_decides_others_keep_errors_to_the_point() -> None:
    # blood_in_semen is wrong, so whether its sub-questions are shown is unknown: only their
    # own faults are reported, not "required".
    errors = _errors(blood_in_semen="yes", blood_in_semen_episodes=0)
    assert errors == [
        ("blood_in_semen", "invalid_boolean"),
        ("blood_in_semen_episodes", "out_of_range"),
    ]
