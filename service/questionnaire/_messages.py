"""The catalogue of answer-error messages (`messages.toml`), each in English and Malayalam."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from service.questionnaire._loader import QuestionnaireError
from service.questionnaire._text import LANGUAGES, LocalizedText

MESSAGES_FILE = Path(__file__).with_name("messages.toml")


@cache
def error_messages() -> Mapping[str, LocalizedText]:
    """Every error code with its text; a code missing a language refuses the whole catalogue."""
    return load_messages(MESSAGES_FILE)


def load_messages(path: Path) -> Mapping[str, LocalizedText]:
    """Read and check a message catalogue: both languages, and the same placeholders in each."""
    catalogue = tomllib.loads(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    messages: dict[str, LocalizedText] = {}
    for code, texts in catalogue.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
            problems.append(f"message '{code}': needs exactly the keys {LANGUAGES}")
            continue
        if not all(isinstance(text, str) and text.strip() for text in texts.values()):
            problems.append(f"message '{code}': empty text")
            continue
        if _placeholders(texts["en"]) != _placeholders(texts["ml"]):
            problems.append(f"message '{code}': English and Malayalam use different placeholders")
            continue
        messages[code] = LocalizedText(en=texts["en"], ml=texts["ml"])
    if problems:
        raise QuestionnaireError(problems)
    return MappingProxyType(messages)


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}
