"""Each default rule fires on its answers and stays silent on the nearest answers that miss."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest

from service.questionnaire import AnswerValue, load_questionnaire
from service.triage import Priority, evaluate, load_rule_set
from tests.domain.support import TODAY, patient, triage

BLOOD = {"blood_in_semen": True, "blood_in_semen_episodes": 1, "blood_in_semen_since": "lt_1_month"}
LEAKAGE = {"main_concern": "semen_leakage", "leakage_when": ["arousal"]}
MEDICINES = {"takes_medicines": True, "antidepressant": False, "symptoms_after_new_medicine": False}
AGE_39 = {"birth_date": date(1986, 11, 21)}  # 40 tomorrow
AGE_40 = {"birth_date": date(1986, 11, 20)}  # 40 today
AGE_44 = {"birth_date": date(1981, 11, 21)}
AGE_45 = {"birth_date": date(1981, 11, 20)}

# rule id -> (answers that fire it, answers that come closest without firing it)
Answers = Mapping[str, object]
EXAMPLES: dict[str, tuple[list[Answers], list[Answers]]] = {
    "RF-PRIAPISM": ([{"erection_over_4h": True}], [{"erectile_difficulty": True}]),
    "RF-TORSION": ([{"testicular_pain_sudden": True}], [{"testicular_lump": True}]),
    "RF-PENILE-FRACTURE": ([{"penile_injury": True}], [{"painful_ejaculation": True}]),
    "RF-RETENTION": ([{"unable_to_urinate": True}], [{"urination_difficulty": True}]),
    "RF-CAUDA-EQUINA": (
        [{"saddle_numbness": True}, {"new_bladder_bowel_problem": True}, {"leg_weakness": True}],
        [{"spine_injury": True, "spine_or_groin_surgery": True}],
    ),
    "RF-CHEST-PAIN": ([{"chest_pain": True}], [{"erectile_difficulty": True}]),
    "RF-SELF-HARM": (
        [
            {**MEDICINES, "antidepressant": True, "self_harm_thoughts": True},
            {**MEDICINES, "self_harm_thoughts": True},  # antidepressant no: kept for safety
        ],
        [{**MEDICINES, "antidepressant": True, "self_harm_thoughts": False}],
    ),
    "RF-ACUTE-PROSTATITIS": (
        [
            {"fever": True, "pelvic_pain": True},
            {"fever": True, "urination_pain": True},
            {"fever": True, "painful_ejaculation": True},
        ],
        [
            {"fever": True},
            {"pelvic_pain": True, "urination_pain": True, "painful_ejaculation": True},
            {"fever": True, "urination_difficulty": True},
        ],
    ),
    "RF-STI": (
        [{"urethral_discharge": True}, {"genital_sores": True}],
        [{"semen_bad_smell": True}],
    ),
    "RF-HAEMATOSPERMIA-REFER": (
        [
            {**BLOOD, **AGE_40},
            {**BLOOD, "blood_in_semen_episodes": 3},
            {**BLOOD, "blood_in_semen_since": "gt_1_month"},
            {**BLOOD, "blood_in_urine": True},
            {**BLOOD, "urination_difficulty": True},
            {**BLOOD, "urination_pain": True},
        ],
        [
            {**BLOOD, **AGE_39, "blood_in_semen_episodes": 2},
            {**AGE_45, "blood_in_urine": True, "urination_pain": True},
        ],
    ),
    "RF-HAEMATOSPERMIA": ([BLOOD], [{"semen_abnormal_appearance": True}]),
    "RF-HAEMATURIA-45": (
        [{**AGE_45, "blood_in_urine": True}],
        [{**AGE_44, "blood_in_urine": True}, {**AGE_45, "urination_pain": True}],
    ),
    "RF-TESTICULAR-LUMP": ([{"testicular_lump": True}], [{"testicular_pain_sudden": True}]),
    "RF-URINARY": (
        [{"urination_difficulty": True}, {"urination_pain": True}],
        [{"unable_to_urinate": True}, {"blood_in_urine": True}],
    ),
    "RF-SEMEN-SMELL": ([{"semen_bad_smell": True}], [{"semen_abnormal_appearance": True}]),
    "RF-SEMEN-APPEARANCE": ([{"semen_abnormal_appearance": True}], [{"semen_bad_smell": True}]),
    "RF-SEXUAL-DYSFUNCTION": (
        [
            {**LEAKAGE, "premature_ejaculation": True},
            {**LEAKAGE, "erectile_difficulty": True},
            {**LEAKAGE, "painful_ejaculation": True},
        ],
        [LEAKAGE, {"main_concern": "erectile_difficulty", "erectile_difficulty": True}],
    ),
    "RF-MEDICATION": (
        [
            {**MEDICINES, "antidepressant": True, "self_harm_thoughts": False},
            {**MEDICINES, "symptoms_after_new_medicine": True},
        ],
        [MEDICINES, {"takes_medicines": False, "antidepressant": True}],
    ),
    "RF-NERVE-HISTORY": (
        [{"spine_or_groin_surgery": True}, {"spine_injury": True}],
        [{"leg_weakness": True}],
    ),
    "RF-INFERTILITY": (
        [{"trying_to_conceive": True, "trying_months": 12}],
        [
            {"trying_to_conceive": True, "trying_months": 11},
            {"trying_to_conceive": False, "trying_months": 24},
        ],
    ),
}

FIRING = [(rule, answers) for rule, (fires, _) in EXAMPLES.items() for answers in fires]
SILENT = [(rule, answers) for rule, (_, silent) in EXAMPLES.items() for answers in silent]


def test_the_default_set_has_exactly_the_brief_rules_and_levels() -> None:
    levels = {rule.id: rule.level for rule in load_rule_set().rules}
    expected = {
        **dict.fromkeys(
            ["RF-PRIAPISM", "RF-TORSION", "RF-PENILE-FRACTURE", "RF-RETENTION",
             "RF-CAUDA-EQUINA", "RF-CHEST-PAIN", "RF-SELF-HARM"],
            Priority.EMERGENCY,
        ),
        **dict.fromkeys(["RF-ACUTE-PROSTATITIS", "RF-STI"], Priority.URGENT),
        **dict.fromkeys(
            ["RF-HAEMATOSPERMIA-REFER", "RF-HAEMATOSPERMIA", "RF-HAEMATURIA-45",
             "RF-TESTICULAR-LUMP", "RF-URINARY", "RF-SEMEN-SMELL", "RF-SEMEN-APPEARANCE"],
            Priority.SOON,
        ),
        **dict.fromkeys(
            ["RF-SEXUAL-DYSFUNCTION", "RF-MEDICATION", "RF-NERVE-HISTORY", "RF-INFERTILITY"],
            Priority.ROUTINE,
        ),
    }  # fmt: skip
    assert levels == expected
    rule_set = load_rule_set()
    assert (rule_set.name, rule_set.version) == ("default", 1)
    assert set(EXAMPLES) == set(levels)


# The brief's rows that cite the clinic's own patient page (its "clinic page" column).
FROM_THE_CLINIC_PAGE = [
    "RF-HAEMATOSPERMIA", "RF-URINARY", "RF-SEMEN-SMELL", "RF-SEMEN-APPEARANCE",
    "RF-SEXUAL-DYSFUNCTION", "RF-MEDICATION", "RF-NERVE-HISTORY",
]  # fmt: skip


def test_staff_read_sources_as_a_clinician_names_them() -> None:
    """The doctor's page and the PDF show a rule's rationale and source: they name the clinic's
    patient page, never the project's own words for it ("seed page", "brief")."""
    rules = {rule.id: rule for rule in load_rule_set().rules}
    for rule in rules.values():
        for text in (rule.rationale, rule.source):
            assert "seed" not in text.lower(), (rule.id, text)
            assert "brief" not in text.lower(), (rule.id, text)
    for rule_id in FROM_THE_CLINIC_PAGE:
        assert "the clinic's patient page on semen leakage" in rules[rule_id].source, rule_id
        assert rules[rule_id].rationale.startswith("The clinic's patient page: "), rule_id


@pytest.mark.parametrize(("rule_id", "answers"), FIRING, ids=[r for r, _ in FIRING])
def test_rule_fires(rule_id: str, answers: Answers) -> None:
    outcome = triage(patient(**answers))
    assert rule_id in outcome.rule_ids
    fired = next(fired for fired in outcome.fired if fired.rule_id == rule_id)
    assert outcome.level == Priority.highest([fired.level for fired in outcome.fired])
    assert fired.level.rank >= outcome.level.rank
    assert fired.triggering_answers, "a fired rule must say which answers raised it"


@pytest.mark.parametrize(("rule_id", "answers"), SILENT, ids=[r for r, _ in SILENT])
def test_rule_stays_silent(rule_id: str, answers: Answers) -> None:
    assert rule_id not in triage(patient(**answers)).rule_ids


def test_no_rule_fires_on_the_base_patient() -> None:
    outcome = triage(patient())
    assert outcome.fired == ()
    assert outcome.level is Priority.ROUTINE


def test_fired_rule_records_version_titles_and_triggering_answers() -> None:
    outcome = triage(patient(**BLOOD, **AGE_40, fever=True, pelvic_pain=True, urination_pain=True))
    by_id = {fired.rule_id: fired for fired in outcome.fired}
    refer = by_id["RF-HAEMATOSPERMIA-REFER"]
    assert (refer.rule_set, refer.rule_set_version, refer.level) == ("default", 1, Priority.SOON)
    assert refer.title.en
    assert refer.title.ml
    # yes answers it reads, the values of its other answers, and the age it used; no "no"s
    assert dict(refer.triggering_answers) == {
        "blood_in_semen": True,
        "blood_in_semen_episodes": 1,
        "blood_in_semen_since": "lt_1_month",
        "urination_pain": True,
        "age": 40,
    }
    assert dict(by_id["RF-ACUTE-PROSTATITIS"].triggering_answers) == {
        "urination_pain": True,
        "fever": True,
        "pelvic_pain": True,
    }
    assert outcome.age == 40


def test_evaluate_is_deterministic_and_takes_today_from_the_caller() -> None:
    rule_set = load_rule_set()
    answers: dict[str, AnswerValue] = {"birth_date": date(1981, 11, 20), "blood_in_urine": True}
    day_before = date(2026, 11, 19)
    assert evaluate(rule_set, answers, TODAY) == evaluate(rule_set, answers, TODAY)
    assert evaluate(rule_set, answers, TODAY).rule_ids == ("RF-HAEMATURIA-45",)
    assert evaluate(rule_set, answers, day_before).rule_ids == ()


def test_unanswered_items_read_as_no_zero_or_empty() -> None:
    """The engine copes with missing answers (as documented in the rule file)."""
    outcome = evaluate(load_rule_set(), {}, TODAY)
    assert (outcome.level, outcome.fired, outcome.age) == (Priority.ROUTINE, (), None)


def test_rules_read_only_questionnaire_items_and_age() -> None:
    names = set(load_questionnaire().items) | {"age"}
    for rule in load_rule_set().rules:
        assert set(rule.uses) <= names
