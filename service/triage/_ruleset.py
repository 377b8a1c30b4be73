"""Loads a red-flag rule set and compiles it, refusing any rule that could misfire.

Every condition is type-checked against the questionnaire, then all of them are compiled into
one CEL program that returns a list of booleans, so that one intake costs one evaluator call.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

import cel

from service.codes import Priority
from service.questionnaire import (
    ItemType,
    LocalizedText,
    Questionnaire,
    load_questionnaire,
)
from service.triage._conditions import ConditionError, Kind, VariableType, check_condition

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.toml"
AGE = "age"

_RULE_ID = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*\Z")
_RULE_KEYS = frozenset({"id", "level", "title", "rationale", "source", "condition"})
_TOP_KEYS = frozenset({"name", "version", "age_from", "description", "rules"})
_KIND = {
    ItemType.BOOLEAN: Kind.BOOL,
    ItemType.INTEGER: Kind.INT,
    ItemType.STRING: Kind.STRING,
    ItemType.TEXT: Kind.STRING,
    ItemType.DATE: Kind.STRING,
    ItemType.CHOICE: Kind.CODE,
    ItemType.MULTI_CHOICE: Kind.CODES,
}
# What a condition reads for an unanswered item: see the header of rules/default.toml.
_NEUTRAL: dict[Kind, object] = {
    Kind.BOOL: False,
    Kind.INT: 0,
    Kind.STRING: "",
    Kind.CODE: "",
    Kind.CODES: (),
}


class RuleSetError(ValueError):
    """A rule set that must not be used; the message names the rule and the problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Rule:
    """One red flag. `uses` are the names its condition reads, in questionnaire order."""

    id: str
    level: Priority
    title: LocalizedText
    rationale: str
    source: str
    condition: str
    uses: tuple[str, ...]


@dataclass(frozen=True)
class Compiled:
    """The evaluator's side of a rule set: one CEL program and the values of unanswered items."""

    program: cel.Program
    neutral: Mapping[str, object]
    date_items: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned list of rules, checked against one questionnaire."""

    name: str
    version: int
    age_from: str
    rules: tuple[Rule, ...]
    questionnaire: Questionnaire = field(repr=False, compare=False)
    compiled: Compiled = field(repr=False, compare=False)


def load_rule_set(
    path: Path | str | None = None, questionnaire: Questionnaire | None = None
) -> RuleSet:
    """The rule set in `path` checked against `questionnaire`; the defaults are cached."""
    if path is None and questionnaire is None:
        return _default_rule_set()
    return _load(Path(path or DEFAULT_RULES), questionnaire or load_questionnaire())


def check_rule_file(path: Path | str, questionnaire: Questionnaire | None = None) -> list[str]:
    """Load `path` as `rules check` does; return a summary, or raise `RuleSetError`."""
    rule_set = load_rule_set(path, questionnaire)
    counts = ", ".join(
        f"{sum(rule.level is level for rule in rule_set.rules)} {level}" for level in Priority
    )
    name, version, total = rule_set.name, rule_set.version, len(rule_set.rules)
    return [f"rule set '{name}' version {version}: {total} rules ({counts})"]


@cache
def _default_rule_set() -> RuleSet:
    return _load(DEFAULT_RULES, load_questionnaire())


def _load(path: Path, questionnaire: Questionnaire) -> RuleSet:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RuleSetError([f"{path.name}: cannot read the rule set: {error}"]) from None
    return parse_rule_set(document, questionnaire)


def variable_types(questionnaire: Questionnaire) -> dict[str, VariableType]:
    """Every name a condition may use: each linkId with its item's type, and `age`."""
    types = {
        link_id: VariableType(_KIND[item.type], item.codes)
        for link_id, item in questionnaire.items.items()
    }
    types[AGE] = VariableType(Kind.INT)
    return types


def parse_rule_set(document: Mapping[str, object], questionnaire: Questionnaire) -> RuleSet:
    """Build a `RuleSet` from parsed TOML, or raise `RuleSetError` listing every faulty rule."""
    problems: list[str] = []
    name, version, age_from = _header(document, questionnaire, problems)
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(f"rule set '{name}': 'rules' must be a non-empty list of [[rules]]")
        raw_rules = []
    types = variable_types(questionnaire)
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules, 1):
        rule = _rule(index, raw, types, questionnaire, problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(f"{rule.id}: duplicate rule id")
            continue
        seen.add(rule.id)
        rules.append(rule)
    if problems:
        raise RuleSetError(problems)
    compiled = _compile(rules, types, questionnaire)
    return RuleSet(
        name=name,
        version=version,
        age_from=age_from,
        rules=tuple(rules),
        questionnaire=questionnaire,
        compiled=compiled,
    )


def _header(
    document: Mapping[str, object], questionnaire: Questionnaire, problems: list[str]
) -> tuple[str, int, str]:
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("rule set: missing 'name'")
        name = "?"
    where = f"rule set '{name}'"
    problems.extend(f"{where}: unknown key '{key}'" for key in document if key not in _TOP_KEYS)
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(f"{where}: 'version' must be a whole number >= 1, not {version!r}")
        version = 0
    age_from = document.get("age_from", "birth_date")
    item = questionnaire.items.get(str(age_from))
    if item is None or item.type is not ItemType.DATE:
        problems.append(f"{where}: 'age_from' {age_from!r} is not a date question")
    return name, version, str(age_from)


def _rule(
    index: int,
    raw: object,
    types: Mapping[str, VariableType],
    questionnaire: Questionnaire,
    problems: list[str],
) -> Rule | None:
    if not isinstance(raw, Mapping):
        problems.append(f"rule {index}: must be a table")
        return None
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        problems.append(f"rule {index}: id {rule_id!r} must look like RF-SOME-NAME")
        return None
    before = len(problems)
    problems.extend(f"{rule_id}: unknown key '{key}'" for key in raw if key not in _RULE_KEYS)
    level = raw.get("level")
    if level not in tuple(Priority):
        known = ", ".join(Priority)
        problems.append(f"{rule_id}: unknown level {level!r} (known: {known})")
    title = _title(rule_id, raw.get("title"), problems)
    texts = {}
    for key in ("rationale", "source", "condition"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{rule_id}: missing '{key}'")
        texts[key] = str(value).strip()
    uses: frozenset[str] = frozenset()
    if texts["condition"]:
        try:
            uses = check_condition(texts["condition"], types)
        except ConditionError as error:
            problems.append(f"{rule_id}: {error}")
    if len(problems) > before or title is None:
        return None
    order = [*questionnaire.items, AGE]
    return Rule(
        id=rule_id,
        level=Priority(str(level)),
        title=title,
        rationale=texts["rationale"],
        source=texts["source"],
        condition=texts["condition"],
        uses=tuple(name for name in order if name in uses),
    )


def _title(rule_id: str, raw: object, problems: list[str]) -> LocalizedText | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{rule_id}: missing 'title' (en and ml)")
        return None
    en, ml = raw.get("en"), raw.get("ml")
    if not isinstance(en, str) or not en.strip():
        problems.append(f"{rule_id}: missing English title ('title.en')")
    if not isinstance(ml, str) or not ml.strip():
        problems.append(f"{rule_id}: missing Malayalam title ('title.ml')")
    if not isinstance(en, str) or not isinstance(ml, str) or not en.strip() or not ml.strip():
        return None
    return LocalizedText(en=en.strip(), ml=ml.strip())


def _compile(
    rules: list[Rule], types: Mapping[str, VariableType], questionnaire: Questionnaire
) -> Compiled:
    problems: list[str] = []
    for rule in rules:
        # The evaluator must read each condition as the checker did, names and all.
        try:
            names = set(cel.compile(rule.condition).variables())
        except ValueError as error:
            problems.append(f"{rule.id}: the evaluator cannot read the condition: {error}")
            continue
        if names != set(rule.uses):
            problems.append(
                f"{rule.id}: the evaluator reads {sorted(names)}, not {list(rule.uses)}"
            )
    if problems:
        raise RuleSetError(problems)
    # A newline before each `)` so that a `//` comment in a condition cannot swallow it.
    source = "[\n" + ",\n".join(f"(\n{rule.condition}\n)" for rule in rules) + "\n]"
    used = {name for rule in rules for name in rule.uses}
    neutral = {name: _NEUTRAL[types[name].kind] for name in sorted(used)}
    compiled = Compiled(
        program=cel.compile(source),
        neutral=MappingProxyType(neutral),
        date_items=tuple(
            name
            for name in used
            if name in questionnaire.items and questionnaire.items[name].type is ItemType.DATE
        ),
    )
    _probe(rules, compiled, types)
    return compiled


def _probe(rules: list[Rule], compiled: Compiled, types: Mapping[str, VariableType]) -> None:
    """Run every rule on typed sample answers: each must give true or false, never an error."""
    samples: list[dict[str, object]] = [dict(compiled.neutral)]
    filled: dict[str, object] = {}
    for name in compiled.neutral:
        variable = types[name]
        filled[name] = {
            Kind.BOOL: True,
            Kind.INT: 1,
            Kind.STRING: "x",
            Kind.CODE: variable.codes[0] if variable.codes else "",
            Kind.CODES: variable.codes,
        }[variable.kind]
    samples.append(filled)
    problems: list[str] = []
    for sample in samples:
        for rule in rules:
            context = cel.Context()
            context.set_variable_resolver(sample.get)
            try:
                result = cel.compile(rule.condition).execute(context)
            except (TypeError, RuntimeError, ValueError) as error:
                problems.append(f"{rule.id}: fails on sample answers: {error}")
                continue
            if not isinstance(result, bool):
                problems.append(f"{rule.id}: gives {result!r} instead of true or false")
    if problems:
        raise RuleSetError(sorted(set(problems)))
