"""The condition checker: what it accepts the evaluator reads alike; anything else is refused."""

from __future__ import annotations

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.questionnaire import load_questionnaire
from service.triage import ConditionError
from service.triage._conditions import Kind, check_condition
from service.triage._ruleset import variable_types

TYPES = variable_types(load_questionnaire())
SAMPLE: dict[str, object] = {
    name: {Kind.BOOL: True, Kind.INT: 3, Kind.CODES: ["sleep"]}.get(variable.kind, "")
    for name, variable in TYPES.items()
}


@pytest.mark.parametrize(
    "source",
    [
        "fever",
        "!fever && (chest_pain || leg_weakness)",
        "age >= 40 && age < 45",
        'main_concern == "fertility" || main_concern != "other"',
        'main_concern in ["fertility", "low_desire"]',
        '"sleep" in leakage_when && size(leakage_when) == 1',
        'leakage_when == ["arousal"]',
        "leakage_when.size() > 1",
        'birth_date < "1980-01-01"',
        "trying_months >= 12 ? trying_to_conceive : false",
        "fever // a comment\n || chest_pain",
    ],
)
def test_accepted(source: str) -> None:
    used = check_condition(source, TYPES)
    assert set(cel.compile(source).variables()) == used


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("fever == 'yes'", "cannot compare yes/no answer 'fever' with text 'yes'"),
        ("trying_months == '12'", "cannot compare number 'trying_months' with text '12'"),
        ("main_concern > 'a'", "'>' compares numbers"),
        ("'x' in main_concern", "'in' needs a list on its right"),
        ("1 in leakage_when", "cannot be in"),
        ("fever in [1, 2]", "cannot be in a list of number"),
        ("size(fever) > 0", "size() needs text or a list"),
        ("has(fever)", "a function call 'has'"),
        ("fever.exists(x, x)", "a method call 'exists'"),
        ("{'a': 1}['a'] == 1", "not allowed"),
        ("-age < 0", "negation"),
        ("age * 2 > 80", "arithmetic"),
        ("age >= 40u", "(use whole numbers)"),
        ('main_concern == "fert\\u0069lity"', "without escapes"),
        ("[fever] == [true]", "only fixed values"),
        ("", "syntax error"),
    ],
)
def test_refused(source: str, problem: str) -> None:
    with pytest.raises(ConditionError) as refused:
        check_condition(source, TYPES)
    assert problem in str(refused.value)


TOKENS = st.sampled_from(
    ["fever", "age", "main_concern", "leakage_when", "trying_months", "full_name", "&&", "||",
     "!", "==", "!=", "<", ">=", "in", "(", ")", "[", "]", ",", "?", ":", "1", "-2", "'sleep'",
     '"fertility"', "true", "null", "size", ".", "+", "{", "}", "x", "1.5", "//c\n"]
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(source=st.lists(TOKENS, max_size=10).map(" ".join) | st.text(max_size=30))
def test_checker_and_evaluator_agree(source: str) -> None:
    """Any input is refused cleanly, or read by the evaluator alike and gives true or false."""
    try:
        used = check_condition(source, TYPES)
    except ConditionError:
        return
    program = cel.compile(source)
    assert set(program.variables()) == used
    assert isinstance(program.execute({name: SAMPLE[name] for name in used}), bool)
