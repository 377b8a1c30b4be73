"""A broken rule file is refused, at load and by `rules check`, naming the rule at fault."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from service.questionnaire import load_questionnaire
from service.triage import DEFAULT_RULES, RuleSetError, check_rule_file, evaluate, load_rule_set

DEFAULT_TEXT = DEFAULT_RULES.read_text(encoding="utf-8")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    assert old in DEFAULT_TEXT, old
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_default_file_passes_the_check() -> None:
    assert check_rule_file(DEFAULT_RULES) == [
        "rule set 'default' version 1: 20 rules (7 emergency, 2 urgent, 7 soon, 4 routine)"
    ]


BROKEN = [
    pytest.param(
        'condition = "erection_over_4h"',
        'condition = "erection_over_4hours"',
        r"^RF-PRIAPISM: unknown linkId 'erection_over_4hours' "
        r"\(did you mean 'erection_over_4h'\?\)$",
        id="unknown linkId",
    ),
    pytest.param(
        'condition = "chest_pain"',
        'condition = "chest_pain == 1"',
        r"^RF-CHEST-PAIN: type mismatch: cannot compare yes/no answer 'chest_pain' with number 1$",
        id="boolean equals number",
    ),
    pytest.param(
        'condition = "testicular_lump"',
        'condition = "testicular_lump >= 1"',
        r"^RF-TESTICULAR-LUMP: type mismatch: '>=' compares numbers",
        id="boolean ordered against number",
    ),
    pytest.param(
        'condition = "trying_to_conceive && trying_months >= 12"',
        'condition = "trying_to_conceive && trying_months"',
        r"^RF-INFERTILITY: type mismatch: '&&' needs yes/no values, "
        r"but got number 'trying_months'$",
        id="number used as yes/no",
    ),
    pytest.param(
        'blood_in_semen_since == "gt_1_month"',
        'blood_in_semen_since == "over_a_month"',
        r"^RF-HAEMATOSPERMIA-REFER: 'over_a_month' is not an answer code of 'blood_in_semen_since'",
        id="unknown answer code",
    ),
    pytest.param(
        'id = "RF-STI"\nlevel = "urgent"',
        'id = "RF-STI"\nlevel = "high"',
        r"^RF-STI: unknown level 'high' \(known: emergency, urgent, soon, routine\)$",
        id="unknown level",
    ),
    pytest.param(
        'id = "RF-SEMEN-SMELL"',
        'id = "RF-URINARY"',
        r"^RF-URINARY: duplicate rule id$",
        id="duplicate id",
    ),
    pytest.param(
        'condition = "urethral_discharge || genital_sores"',
        'condition = "urethral_discharge || || genital_sores"',
        r"^RF-STI: syntax error at line 1 column \d+",
        id="syntax error",
    ),
    pytest.param(
        'condition = "blood_in_urine && age >= 45"',
        'condition = "blood_in_urine && age + 1 >= 46"',
        r"^RF-HAEMATURIA-45: not allowed in a rule condition: arithmetic",
        id="unsupported construct",
    ),
    pytest.param(
        'condition = "semen_bad_smell"',
        'condition = "size(full_name)"',
        r"^RF-SEMEN-SMELL: the condition must be true or false, not a result of size\(\)$",
        id="not a yes/no condition",
    ),
    pytest.param(
        'title.ml = "ശുക്ലത്തിന് ദുർഗന്ധം"\n',
        "",
        r"^RF-SEMEN-SMELL: missing Malayalam title \('title.ml'\)$",
        id="missing Malayalam title",
    ),
    pytest.param(
        'condition = "penile_injury"',
        'condition = ""',
        r"^RF-PENILE-FRACTURE: missing 'condition'$",
        id="empty condition",
    ),
    pytest.param(
        "version = 1",
        'version = "one"',
        r"^rule set 'default': 'version' must be a whole number >= 1, not 'one'$",
        id="bad version",
    ),
    pytest.param(
        'id = "RF-RETENTION"',
        'id = "retention"',
        r"^rule 4: id 'retention' must look like RF-SOME-NAME$",
        id="bad id",
    ),
    pytest.param(
        'source = "NICE NG12"\ncondition = "testicular_lump"',
        'source = "NICE NG12"\ncondition = "testicular_lump"\nseverity = 3',
        r"^RF-TESTICULAR-LUMP: unknown key 'severity'$",
        id="unknown key",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_broken_rule_file_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _edited(tmp_path, old, new)
    with pytest.raises(RuleSetError) as refused:
        check_rule_file(path)
    assert re.search(message, str(refused.value)), str(refused.value)
    assert "\n" not in str(refused.value)
    with pytest.raises(RuleSetError):  # the same file is refused at start-up
        load_rule_set(path, load_questionnaire())


def test_every_fault_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    text = DEFAULT_TEXT.replace('condition = "chest_pain"', 'condition = "chest_pian"')
    text = text.replace('id = "RF-STI"\nlevel = "urgent"', 'id = "RF-STI"\nlevel = "asap"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError) as refused:
        check_rule_file(path)
    assert [problem.split(":")[0] for problem in refused.value.problems] == [
        "RF-CHEST-PAIN",
        "RF-STI",
    ]


def test_unreadable_file_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[[rules]\n', encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"^broken\.toml: cannot read the rule set"):
        check_rule_file(path)
    with pytest.raises(RuleSetError, match=r"^missing\.toml: cannot read"):
        check_rule_file(tmp_path / "missing.toml")


def test_a_comment_inside_a_condition_cannot_swallow_the_next_rule(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        'condition = "chest_pain"',
        'condition = "chest_pain // exertion or sex"',
    )
    rule_set = load_rule_set(path, load_questionnaire())
    assert len(rule_set.rules) == 20
    assert evaluate(rule_set, {"chest_pain": True}, date(2026, 1, 1)).rule_ids == ("RF-CHEST-PAIN",)
