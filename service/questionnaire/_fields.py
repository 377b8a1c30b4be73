"""Reading typed fields out of a parsed TOML table, noting every fault instead of stopping."""

from __future__ import annotations

from collections.abc import Mapping

from service.questionnaire._text import LANGUAGES, LocalizedText


class FieldReader:
    """Collects every fault in one pass so a clinician can fix the whole file at once."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        """Note a fault; `where` names the item, option or table at fault."""
        self.problems.append(f"{where}: {problem}")

    def text(
        self, where: str, raw: Mapping[str, object], key: str, *, required: bool = True
    ) -> LocalizedText | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.fail(where, f"missing '{key}' (English and Malayalam)")
            return None
        if not isinstance(value, Mapping):
            self.fail(where, f"'{key}' must be a table with en and ml")
            return None
        self.unknown_keys(f"{where} {key}", value, set(LANGUAGES))
        return self.languages(f"{where} {key}", value)

    def languages(self, where: str, raw: Mapping[str, object]) -> LocalizedText | None:
        names = {"en": "English", "ml": "Malayalam"}
        texts: dict[str, str] = {}
        for language in LANGUAGES:
            value = raw.get(language)
            if not isinstance(value, str) or not value.strip():
                self.fail(where, f"missing {names[language]} text ('{language}')")
            else:
                texts[language] = value.strip()
        if len(texts) != len(LANGUAGES):
            return None
        return LocalizedText(en=texts["en"], ml=texts["ml"])

    def string(self, where: str, raw: Mapping[str, object], key: str) -> str | None:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"missing '{key}'")
            return None
        return value.strip()

    def flag(self, where: str, raw: Mapping[str, object], key: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.fail(where, f"'{key}' must be true or false, not {value!r}")
            return False
        return value

    def unknown_keys(
        self, where: str, raw: Mapping[str, object], known: set[str] | frozenset[str]
    ) -> None:
        for key in raw:
            if key not in known:
                self.fail(where, f"unknown key '{key}'")
