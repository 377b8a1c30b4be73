"""The questionnaire as frozen values: sections, items, options and when an item is asked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from service.questionnaire._text import Language, LocalizedText, is_language

AnswerValue = bool | int | str | date | tuple[str, ...]
"""A cleaned answer: a multi-choice answer is a tuple of option codes in the form's order."""

Operator = Literal["=", "!=", "exists"]
OPERATORS: tuple[Operator, ...] = ("=", "!=", "exists")


class ItemType(StrEnum):
    """What kind of answer an item takes; each maps to one FHIR R4 item type."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    STRING = "string"
    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi-choice"


class TextFormat(StrEnum):
    """Extra checks for a string item whose value has a known shape."""

    PHONE = "phone"
    EMAIL = "email"


@dataclass(frozen=True)
class AnswerOption:
    """One answer the patient can pick; `code` is what is stored and what rules compare."""

    code: str
    text: LocalizedText


@dataclass(frozen=True)
class EnableWhen:
    """Show and accept an item only when an earlier item's answer meets this condition."""

    question: str
    operator: Operator
    answer: bool | int | str | None = None

    def holds(self, answer: AnswerValue | None) -> bool:
        """FHIR semantics: a multi-choice answer matches `=` when any chosen code matches."""
        if self.operator == "exists":
            return (answer is not None) == bool(self.answer)
        if answer is None:
            # FHIR: `!=` on a missing answer is true; `=` is false.
            return self.operator == "!="
        matches = self.answer in answer if isinstance(answer, tuple) else answer == self.answer
        return matches if self.operator == "=" else not matches


@dataclass(frozen=True)
class Limits:
    """Bounds on an answer: text length in characters, a number's value, or an age in years."""

    min_length: int | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class Consent:
    """The agreement text shown beside a consent item, and its version, stored with the intake."""

    version: str
    text: LocalizedText


@dataclass(frozen=True)
class Item:
    """One question. `required` means required whenever the item is enabled."""

    link_id: str
    type: ItemType
    text: LocalizedText
    section: str
    required: bool = False
    hint: LocalizedText | None = None
    options: tuple[AnswerOption, ...] = ()
    enable_when: tuple[EnableWhen, ...] = ()
    enable_behavior: Literal["all", "any"] = "all"
    limits: Limits = Limits()
    format: TextFormat | None = None
    must_agree: bool = False
    consent: Consent | None = None
    default_from_form_language: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        """The option codes, in the order shown."""
        return tuple(option.code for option in self.options)


@dataclass(frozen=True)
class Section:
    """A group of items shown together; its `enable_when` applies to every item in it."""

    link_id: str
    title: LocalizedText
    items: tuple[Item, ...]
    hint: LocalizedText | None = None
    enable_when: tuple[EnableWhen, ...] = ()
    enable_behavior: Literal["all", "any"] = "all"


@dataclass(frozen=True)
class Questionnaire:
    """A versioned questionnaire definition, as a clinician reviewed it."""

    name: str
    version: str
    title: LocalizedText
    sections: tuple[Section, ...]
    yes: LocalizedText
    no: LocalizedText
    url: str | None = None
    description: LocalizedText | None = None
    items: Mapping[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {item.link_id: item for section in self.sections for item in section.items}
        object.__setattr__(self, "items", MappingProxyType(by_id))

    def section(self, link_id: str) -> Section:
        """The section called `link_id`."""
        return next(section for section in self.sections if section.link_id == link_id)

    def form_language(self, answers: Mapping[str, object]) -> Language | None:
        """The form's language as the answers tell it: the answer to the item whose default is
        the form's language (the patient's preferred language), when it is one of the form's."""
        for item in self.items.values():
            if item.default_from_form_language:
                answer = answers.get(item.link_id)
                return answer if is_language(answer) else None
        return None

    @property
    def consent_item(self) -> Item | None:
        """The item carrying the consent text and version that are stored with each intake."""
        return next((item for item in self.items.values() if item.consent is not None), None)
