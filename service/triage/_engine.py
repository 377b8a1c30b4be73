"""The triage engine: clean answers plus the clinic-local date give a priority and red flags.

Pure and deterministic: no clock, no I/O. The whole rule set is one evaluator call per intake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import cel

from service.codes import Priority
from service.questionnaire import AnswerValue, ItemType, LocalizedText, age_on
from service.triage._ruleset import AGE, Rule, RuleSet

TriggeringAnswers = tuple[tuple[str, AnswerValue], ...]


class FiredRule(NamedTuple):
    """A red flag raised on an intake, with the answers that raised it (stored with the intake).

    A named tuple rather than a frozen dataclass: it is built for every fired rule of every
    intake, and tuples are made several times faster, which keeps triage inside its budget.
    """

    rule_id: str
    level: Priority
    rule_set: str
    rule_set_version: int
    title: LocalizedText
    triggering_answers: TriggeringAnswers
    """Yes answers among the items the rule reads, the values of its other answered items, and
    `age` when the rule reads it; in questionnaire order."""


@dataclass(frozen=True)
class Triage:
    """The computed priority of one intake: the highest level fired, `routine` when none."""

    level: Priority
    fired: tuple[FiredRule, ...]
    rule_set: str
    rule_set_version: int
    age: int | None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the fired rules, in rule-set order."""
        return tuple(fired.rule_id for fired in self.fired)


def evaluate(rule_set: RuleSet, answers: Mapping[str, AnswerValue], today: date) -> Triage:
    """Triage `answers` (as cleaned by `validate_answers`) on the clinic-local date `today`."""
    birth_date = answers.get(rule_set.age_from)
    age = age_on(birth_date, today) if isinstance(birth_date, date) else None
    hits = _run(rule_set, answers, age)
    fired = tuple(
        _fired(rule, rule_set, answers, age)
        for rule, hit in zip(rule_set.rules, hits, strict=True)
        if hit is True
    )
    return Triage(
        level=Priority.highest([rule.level for rule in fired]),
        fired=fired,
        rule_set=rule_set.name,
        rule_set_version=rule_set.version,
        age=age,
    )


def is_emergency_answer(rule_set: RuleSet, link_id: str, value: AnswerValue) -> bool:
    """Whether this one answer, with every other item unanswered, fires an emergency rule.

    This is the brief's safety exception: such an answer is kept even on a disabled item. Age
    is tried at both ends of the questionnaire's age range, so a rule that also needs an age
    threshold still counts.
    """
    item = rule_set.questionnaire.items.get(rule_set.age_from)
    limits = item.limits if item is not None else None
    ages = {limits.min_age or 0, limits.max_age or 0} if limits else {0}
    for age in sorted(ages):
        hits = _run(rule_set, {link_id: value}, age)
        pairs = zip(rule_set.rules, hits, strict=True)
        if any(hit is True and rule.level is Priority.EMERGENCY for rule, hit in pairs):
            return True
    return False


def emergency_answers(rule_set: RuleSet) -> frozenset[tuple[str, AnswerValue]]:
    """Every yes/no and choice answer that alone fires an emergency rule (for review and docs).

    A multi-choice answer is listed as a one-code tuple. Numbers and text are not enumerable;
    `is_emergency_answer` decides those one value at a time.
    """
    candidates: list[tuple[str, AnswerValue]] = []
    for link_id, item in rule_set.questionnaire.items.items():
        if item.type is ItemType.BOOLEAN:
            candidates.append((link_id, True))
        elif item.options:
            multi = item.type is ItemType.MULTI_CHOICE
            candidates.extend((link_id, (code,) if multi else code) for code in item.codes)
    return frozenset(
        candidate for candidate in candidates if is_emergency_answer(rule_set, *candidate)
    )


def _run(rule_set: RuleSet, answers: Mapping[str, AnswerValue], age: int | None) -> list[object]:
    compiled = rule_set.compiled
    variables = dict(compiled.neutral)
    variables.update(answers)
    for link_id in compiled.date_items:
        value = answers.get(link_id)
        if isinstance(value, date):
            variables[link_id] = value.isoformat()
    variables[AGE] = age or 0
    context = cel.Context()
    # Resolved lazily: the evaluator converts only the names a short-circuit actually reaches.
    context.set_variable_resolver(variables.get)
    result: list[object] = compiled.program.execute(context)
    return result


def _fired(
    rule: Rule, rule_set: RuleSet, answers: Mapping[str, AnswerValue], age: int | None
) -> FiredRule:
    triggering: list[tuple[str, AnswerValue]] = []
    for name in rule.uses:
        value = age if name == AGE else answers.get(name)
        # A "no" did not make the rule fire; an unanswered item has nothing to show.
        if value is not None and value is not False:
            triggering.append((name, value))
    # Positional: this runs for every fired rule of every intake.
    return FiredRule(
        rule.id, rule.level, rule_set.name, rule_set.version, rule.title, tuple(triggering)
    )
