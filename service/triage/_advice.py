"""What the patient is told after submitting (`advice.toml`), chosen from the triage result."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.codes import Priority
from service.questionnaire import LANGUAGES, AnswerValue, Language, LocalizedText
from service.triage._engine import Triage
from service.triage._ruleset import RuleSet, RuleSetError, load_rule_set

DEFAULT_ADVICE = Path(__file__).with_name("advice.toml")
_PLACEHOLDERS = {
    "reference": {"reference"},
    "levels": {"clinic_phone"},
    "notices": {"clinic_phone"},
    "education": set(),
}


@dataclass(frozen=True)
class Notice:
    """Shown first, with the emergency instruction, when `when_rule` fired (the crisis line)."""

    id: str
    when_rule: str
    text: LocalizedText


@dataclass(frozen=True)
class Education:
    """A short explanation for a level, when an answer contains (or is only) some codes."""

    id: str
    when_level: Priority
    question: str
    text: LocalizedText
    only: frozenset[str] | None = None
    includes: str | None = None

    def applies(self, level: Priority, answers: Mapping[str, AnswerValue]) -> bool:
        """Whether this snippet fits an intake with this level and these answers."""
        answer = answers.get(self.question)
        codes = frozenset(answer) if isinstance(answer, tuple) else frozenset({str(answer)})
        if level is not self.when_level or answer is None or not codes:
            return False
        if self.only is not None:
            return codes == self.only
        return self.includes in codes


@dataclass(frozen=True)
class Advice:
    """Every text the patient may see after submitting."""

    reference: LocalizedText
    levels: Mapping[Priority, LocalizedText]
    notices: tuple[Notice, ...]
    education: tuple[Education, ...]


@dataclass(frozen=True)
class PatientAdvice:
    """The advice for one intake, in one language, in the order it is shown."""

    first: tuple[str, ...]
    """Shown first and large: the emergency instruction, then the crisis line when it applies."""
    next_steps: str
    """What happens next at this level (empty for an emergency: `first` says it)."""
    education: tuple[str, ...]

    @property
    def text(self) -> str:
        """All of it as paragraphs, for the API's single `advice` string."""
        return "\n\n".join(part for part in (*self.first, self.next_steps, *self.education) if part)


def patient_advice(
    triage: Triage,
    answers: Mapping[str, AnswerValue],
    language: Language,
    *,
    clinic_phone: str,
    advice: Advice | None = None,
) -> PatientAdvice:
    """What to tell the patient about this intake; never a diagnosis, never a rule id."""
    advice = advice or load_advice()
    level_text = advice.levels[triage.level].get(language).format(clinic_phone=clinic_phone)
    fired = set(triage.rule_ids)
    notices = tuple(
        notice.text.get(language).format(clinic_phone=clinic_phone)
        for notice in advice.notices
        if notice.when_rule in fired
    )
    emergency = triage.level is Priority.EMERGENCY
    return PatientAdvice(
        first=((level_text,) if emergency else ()) + notices,
        next_steps="" if emergency else level_text,
        education=tuple(
            education.text.get(language)
            for education in advice.education
            if education.applies(triage.level, answers)
        ),
    )


def reference_line(reference: str, language: Language, advice: Advice | None = None) -> str:
    """The sentence giving the patient the reference code to quote on the phone."""
    return (advice or load_advice()).reference.get(language).format(reference=reference)


def load_advice(path: Path | str | None = None, rule_set: RuleSet | None = None) -> Advice:
    """The advice texts, checked against `rule_set`; the default is read once and cached."""
    if path is None and rule_set is None:
        return _default_advice()
    return _load(Path(path or DEFAULT_ADVICE), rule_set or load_rule_set())


@cache
def _default_advice() -> Advice:
    return _load(DEFAULT_ADVICE, load_rule_set())


def _load(path: Path, rule_set: RuleSet) -> Advice:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    reference = _text("reference", document.get("reference"), "reference", problems)
    raw_levels = document.get("levels")
    levels_table = raw_levels if isinstance(raw_levels, Mapping) else {}
    levels = {
        level: _text(f"levels.{level}", levels_table.get(level.value), "levels", problems)
        for level in Priority
    }
    emergency = levels[Priority.EMERGENCY]
    if emergency is not None and not all(
        "112" in text and "{clinic_phone}" in text for text in (emergency.en, emergency.ml)
    ):
        problems.append("levels.emergency: must give 112 and {clinic_phone} in both languages")
    rule_ids = {rule.id for rule in rule_set.rules}
    notices = []
    for raw in _tables(document, "notices"):
        notice_id = str(raw.get("id"))
        text = _text(f"notice '{notice_id}'", raw, "notices", problems)
        if raw.get("when_rule") not in rule_ids:
            problems.append(f"notice '{notice_id}': unknown rule {raw.get('when_rule')!r}")
        elif text is not None:
            notices.append(Notice(notice_id, str(raw["when_rule"]), text))
    education = [
        item
        for raw in _tables(document, "education")
        if (item := _education(raw, rule_set, problems)) is not None
    ]
    if problems or reference is None:
        raise RuleSetError(problems)
    return Advice(
        reference=reference,
        levels={level: text for level, text in levels.items() if text is not None},
        notices=tuple(notices),
        education=tuple(education),
    )


def _education(
    raw: Mapping[str, object], rule_set: RuleSet, problems: list[str]
) -> Education | None:
    where = f"education '{raw.get('id')}'"
    text = _text(where, raw, "education", problems)
    item = rule_set.questionnaire.items.get(str(raw.get("question")))
    level = raw.get("when_level")
    only, includes = raw.get("only"), raw.get("includes")
    if item is None:
        problems.append(f"{where}: unknown question {raw.get('question')!r}")
        return None
    if level not in tuple(Priority):
        problems.append(f"{where}: unknown level {level!r}")
        return None
    codes = list(only) if isinstance(only, list) else [includes]
    if (only is None) == (includes is None) or not set(codes) <= set(item.codes):
        problems.append(f"{where}: needs 'only' or 'includes' with codes of '{item.link_id}'")
        return None
    if text is None:
        return None
    return Education(
        id=str(raw.get("id")),
        when_level=Priority(str(level)),
        question=item.link_id,
        text=text,
        only=frozenset(str(code) for code in codes) if only is not None else None,
        includes=str(includes) if includes is not None else None,
    )


def _tables(document: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    value = document.get(key, [])
    return (
        [table for table in value if isinstance(table, Mapping)] if isinstance(value, list) else []
    )


def _text(where: str, raw: object, kind: str, problems: list[str]) -> LocalizedText | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: missing")
        return None
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        value = raw.get(language)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: missing '{language}' text")
            continue
        if "RF-" in value:
            problems.append(f"{where}: patient text must not name a rule id")
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        if not fields <= _PLACEHOLDERS[kind]:
            problems.append(
                f"{where}: unknown placeholder(s) {sorted(fields - _PLACEHOLDERS[kind])}"
            )
        texts[language] = value.strip()
    if len(texts) != len(LANGUAGES):
        return None
    return LocalizedText(en=texts["en"], ml=texts["ml"])
