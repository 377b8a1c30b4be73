"""Words in the clinic's two languages: every patient-facing string is a `LocalizedText`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeGuard

Language = Literal["en", "ml"]
LANGUAGES: tuple[Language, ...] = ("en", "ml")


def is_language(value: object) -> TypeGuard[Language]:
    """Whether `value` names one of the form's languages (for callers reading `?lang=`)."""
    return value in LANGUAGES


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """The same words in English and Malayalam; both are required, so neither can be forgotten."""

    en: str
    ml: str

    def get(self, language: Language) -> str:
        """The text in `language`."""
        return self.ml if language == "ml" else self.en

    def format(self, **values: object) -> LocalizedText:
        """Both texts with `{name}` placeholders filled in."""
        return LocalizedText(self.en.format(**values), self.ml.format(**values))
