"""The brief's safety exception: an answer that alone is an emergency is never dropped."""

from __future__ import annotations

from functools import partial

from service.questionnaire import load_questionnaire, validate_answers
from service.triage import Priority, emergency_answers, is_emergency_answer, load_rule_set
from tests.domain.support import TODAY, patient, submit


def test_emergency_answers_are_derived_from_the_emergency_rules() -> None:
    assert emergency_answers(load_rule_set()) == {
        ("erection_over_4h", True),
        ("testicular_pain_sudden", True),
        ("penile_injury", True),
        ("unable_to_urinate", True),
        ("saddle_numbness", True),
        ("new_bladder_bowel_problem", True),
        ("leg_weakness", True),
        ("chest_pain", True),
        ("self_harm_thoughts", True),
    }


def test_is_emergency_answer_looks_at_the_value() -> None:
    rule_set = load_rule_set()
    assert is_emergency_answer(rule_set, "self_harm_thoughts", value=True)
    assert not is_emergency_answer(rule_set, "self_harm_thoughts", value=False)
    assert not is_emergency_answer(rule_set, "antidepressant", value=True)  # routine only
    assert not is_emergency_answer(rule_set, "trying_months", 480)


def test_self_harm_yes_is_kept_on_a_hidden_question_and_reported() -> None:
    raw = patient(takes_medicines=True, antidepressant=False, symptoms_after_new_medicine=False,
                  self_harm_thoughts=True)  # fmt: skip
    result, outcome = submit(raw)
    assert result.kept_for_safety == ("self_harm_thoughts",)
    assert result.answers["self_harm_thoughts"] is True
    assert outcome is not None
    assert outcome.level is Priority.EMERGENCY
    assert outcome.rule_ids == ("RF-SELF-HARM",)


def test_without_the_safety_check_a_hidden_answer_is_dropped() -> None:
    raw = patient(takes_medicines=True, antidepressant=False, symptoms_after_new_medicine=False,
                  self_harm_thoughts=True)  # fmt: skip
    result = validate_answers(load_questionnaire(), raw, TODAY)
    assert "self_harm_thoughts" not in result.answers
    assert result.dropped == ("self_harm_thoughts",)


def test_the_caller_decides_what_is_kept() -> None:
    raw = patient(trying_to_conceive=False, trying_months=30)
    result = validate_answers(
        load_questionnaire(), raw, TODAY, keep_when_disabled=lambda link_id, _: True
    )
    assert result.answers["trying_months"] == 30
    assert result.kept_for_safety == ("trying_months",)


def test_a_wrong_answer_on_a_hidden_question_is_dropped_not_an_error() -> None:
    # Without JavaScript every section shows; stale input in a hidden one must not block.
    result, outcome = submit(patient(trying_to_conceive=False, trying_months="many"))
    assert result.errors == ()
    assert result.dropped == ("trying_months",)
    assert outcome is not None


def test_a_hidden_emergency_answer_still_needs_the_right_type() -> None:
    result, _ = submit(patient(takes_medicines=False, self_harm_thoughts="yes"))
    assert "self_harm_thoughts" not in result.answers
    assert result.dropped == ("self_harm_thoughts",)


def test_keep_check_sees_only_hidden_answers() -> None:
    seen: list[str] = []

    def keep(link_id: str, value: object) -> bool:
        seen.append(link_id)
        return False

    raw = patient(takes_medicines=True, antidepressant=True, symptoms_after_new_medicine=False,
                  self_harm_thoughts=False, trying_months=3)  # fmt: skip
    validate_answers(load_questionnaire(), raw, TODAY, keep_when_disabled=keep)
    assert seen == ["trying_months"]


def test_safety_check_fits_validate_answers() -> None:
    check = partial(is_emergency_answer, load_rule_set())
    raw = patient(takes_medicines=False, self_harm_thoughts=True, antidepressant=False)
    result = validate_answers(load_questionnaire(), raw, TODAY, keep_when_disabled=check)
    assert result.kept_for_safety == ("self_harm_thoughts",)
    assert result.dropped == ("antidepressant",)


def test_a_client_that_must_not_answer_hidden_questions_is_refused_but_for_emergencies() -> None:
    """`when_disabled="refuse"` (the FHIR way in): a hidden answer is an error naming its item,
    except one that alone is an emergency, which is kept as the brief says."""
    keep = partial(is_emergency_answer, load_rule_set())
    hidden = patient(trying_to_conceive=False, trying_months=30)
    refused = validate_answers(
        load_questionnaire(), hidden, TODAY, keep_when_disabled=keep, when_disabled="refuse"
    )
    assert [(error.field, error.code) for error in refused.errors] == [
        ("trying_months", "not_enabled")
    ]
    assert refused.dropped == ()
    emergency = patient(takes_medicines=True, antidepressant=False,
                        symptoms_after_new_medicine=False, self_harm_thoughts=True)  # fmt: skip
    kept = validate_answers(
        load_questionnaire(), emergency, TODAY, keep_when_disabled=keep, when_disabled="refuse"
    )
    assert kept.ok
    assert kept.kept_for_safety == ("self_harm_thoughts",)
