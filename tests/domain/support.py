"""Shared for the domain tests: the example patients of `cases.toml` and one submit step."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from service.questionnaire import Language, ValidationResult, load_questionnaire, validate_answers
from service.triage import Triage, evaluate, is_emergency_answer, load_rule_set

CASES_FILE = Path(__file__).with_name("cases.toml")
CASES: dict[str, Any] = tomllib.loads(CASES_FILE.read_text(encoding="utf-8"))
TODAY: date = CASES["base"]["today"]


def patient(**answers: object) -> dict[str, object]:
    """The base patient of `cases.toml` (valid, no red flag), with `answers` changed."""
    raw = {key: value for key, value in CASES["base"].items() if key != "today"}
    raw.update(answers)
    return raw


def submit(
    raw: Mapping[str, object], today: date = TODAY, language: Language = "en"
) -> tuple[ValidationResult, Triage | None]:
    """What the service does with a submission: validate, drop disabled answers, triage."""
    rule_set = load_rule_set()
    result = validate_answers(
        load_questionnaire(),
        raw,
        today,
        language=language,
        keep_when_disabled=partial(is_emergency_answer, rule_set),
    )
    if not result.ok:
        return result, None
    return result, evaluate(rule_set, result.answers, today)


def triage(raw: Mapping[str, object], today: date = TODAY) -> Triage:
    """The triage of a submission that must be valid."""
    result, outcome = submit(raw, today)
    assert outcome is not None, [(e.field, e.code) for e in result.errors]
    return outcome
