"""Checks a whole submission against the questionnaire and returns clean answers or every error.

Pure: the caller passes the clinic-local date. Answers to items that are not enabled are
dropped (or, when the caller asks, refused), except those the caller's safety check says could
fire an emergency rule (the brief's safety exception); the triage rule set provides that check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

from service.questionnaire._answers import InvalidAnswerError, is_blank, parse_answer
from service.questionnaire._messages import error_messages
from service.questionnaire._model import AnswerValue, EnableWhen, Item, ItemType, Questionnaire
from service.questionnaire._text import Language, LocalizedText

KeepWhenDisabled = Callable[[str, AnswerValue], bool]
"""Whether an answer to a disabled item must be kept anyway, because it alone is an emergency."""

NOT_ENABLED = "not_enabled"
"""The error code of an answer refused because its question is not asked (`refuse`)."""

WhenDisabled = Literal["drop", "refuse"]
"""What becomes of an answer to an item that is not enabled (and not kept for safety): dropped,
as the brief says of the form, whose browser may keep a hidden answer; or refused (an error),
for a client such as a FHIR form filler that must never send one."""


@dataclass(frozen=True)
class AnswerError:
    """One problem with one answer; `field` is the item's linkId."""

    field: str
    code: str
    message: LocalizedText

    def message_in(self, language: Language) -> str:
        """The message in the language of the form."""
        return self.message.get(language)


@dataclass(frozen=True)
class ValidationResult:
    """Clean answers in questionnaire order, or the errors that stop the submission."""

    answers: Mapping[str, AnswerValue]
    errors: tuple[AnswerError, ...]
    dropped: tuple[str, ...] = ()
    """linkIds whose answers were dropped because their item was not enabled."""
    kept_for_safety: tuple[str, ...] = ()
    """linkIds answered on a disabled item but kept because the answer is an emergency."""

    @property
    def ok(self) -> bool:
        """Whether the submission can be stored."""
        return not self.errors


def validate_answers(
    questionnaire: Questionnaire,
    raw: Mapping[str, object],
    today: date,
    *,
    language: Language = "en",
    default_region: str = "IN",
    keep_when_disabled: KeepWhenDisabled | None = None,
    when_disabled: WhenDisabled = "drop",
) -> ValidationResult:
    """Validate every answer at once; `language` is the form's, the default for a blank choice."""
    check = _Check(
        when_disabled=when_disabled,
        questionnaire=questionnaire,
        raw=raw,
        today=today,
        language=language,
        default_region=default_region,
        keep_when_disabled=keep_when_disabled,
    )
    return check.run()


# A body full of made-up questions gets a short answer: the first few by name, then a count.
MAX_UNKNOWN_LISTED = 20
MAX_KEY_ECHOED = 80
ALL_ANSWERS = "answers"  # the field of an error about the answers as a whole

_Enabled = Literal["yes", "no", "unknown"]


class _Check:
    def __init__(
        self,
        *,
        questionnaire: Questionnaire,
        raw: Mapping[str, object],
        today: date,
        language: Language,
        default_region: str,
        keep_when_disabled: KeepWhenDisabled | None,
        when_disabled: WhenDisabled,
    ) -> None:
        self.questionnaire = questionnaire
        self.when_disabled = when_disabled
        self.raw = raw
        self.today = today
        self.language = language
        self.region = default_region
        self.keep = keep_when_disabled
        self.answers: dict[str, AnswerValue] = {}
        self.errors: list[AnswerError] = []
        self.failed: set[str] = set()
        self.dropped: list[str] = []
        self.kept: list[str] = []

    def run(self) -> ValidationResult:
        unknown = [str(key) for key in self.raw if key not in self.questionnaire.items]
        for key in unknown[:MAX_UNKNOWN_LISTED]:
            self.error(_shortened(key), "unknown_item")
        if len(unknown) > MAX_UNKNOWN_LISTED:
            self.error(ALL_ANSWERS, "more_unknown_items", count=len(unknown) - MAX_UNKNOWN_LISTED)
        for section in self.questionnaire.sections:
            section_enabled = self.enabled(section.enable_when, section.enable_behavior)
            for item in section.items:
                enabled = _both(
                    section_enabled, self.enabled(item.enable_when, item.enable_behavior)
                )
                self.answer(item, enabled)
        return ValidationResult(
            answers=MappingProxyType(self.answers),
            errors=tuple(self.errors),
            dropped=tuple(self.dropped),
            kept_for_safety=tuple(self.kept),
        )

    def answer(self, item: Item, enabled: _Enabled) -> None:
        value = self.raw.get(item.link_id)
        if is_blank(value):
            if enabled == "yes":
                self.blank(item)
            return
        try:
            answer = parse_answer(item, value, self.today, self.region)
        except InvalidAnswerError as invalid:
            # A disabled item's answer is dropped unread: only shown questions can be wrong.
            if enabled == "no":
                self.disabled(item)
            else:
                self.error(item.link_id, invalid.code, **invalid.params)
            return
        if enabled == "unknown":
            return  # an earlier answer that decides this one is wrong; nothing is stored anyway
        if enabled == "no":
            if self.keep is not None and self.keep(item.link_id, answer):
                self.kept.append(item.link_id)
                self.answers[item.link_id] = answer
            else:
                self.disabled(item)
            return
        if item.must_agree and answer is not True:
            self.error(item.link_id, "consent_required")
            return
        self.answers[item.link_id] = answer

    def disabled(self, item: Item) -> None:
        if self.when_disabled == "refuse":
            self.error(item.link_id, NOT_ENABLED)
        else:
            self.dropped.append(item.link_id)

    def blank(self, item: Item) -> None:
        if item.default_from_form_language:
            self.answers[item.link_id] = self.language
        elif item.must_agree:
            self.error(item.link_id, "consent_required")
        elif item.required:
            # A blank yes/no is an error, never an implicit "no" (brief).
            code = "required_yes_no" if item.type is ItemType.BOOLEAN else "required"
            self.error(item.link_id, code)

    def enabled(self, conditions: tuple[EnableWhen, ...], behavior: str) -> _Enabled:
        if not conditions:
            return "yes"
        if any(condition.question in self.failed for condition in conditions):
            return "unknown"
        results = [
            condition.holds(self.answers.get(condition.question)) for condition in conditions
        ]
        return "yes" if (all(results) if behavior == "all" else any(results)) else "no"

    def error(self, field: str, code: str, **params: object) -> None:
        self.failed.add(field)
        message = error_messages()[code].format(**params)
        self.errors.append(AnswerError(field=field, code=code, message=message))


def _shortened(key: str) -> str:
    """An unknown key as echoed in an error: long enough to recognise, never a whole body."""
    return key if len(key) <= MAX_KEY_ECHOED else key[:MAX_KEY_ECHOED] + "…"


def _both(section: _Enabled, item: _Enabled) -> _Enabled:
    if "no" in (section, item):
        return "no"
    if "unknown" in (section, item):
        return "unknown"
    return "yes"
