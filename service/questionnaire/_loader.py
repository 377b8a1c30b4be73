"""Reads `definition.toml` and refuses a bad definition, naming the item and the problem."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal, cast

from service.questionnaire._fields import FieldReader
from service.questionnaire._model import (
    OPERATORS,
    AnswerOption,
    Consent,
    EnableWhen,
    Item,
    ItemType,
    Limits,
    Questionnaire,
    Section,
    TextFormat,
)
from service.questionnaire._text import LANGUAGES

DEFAULT_DEFINITION = Path(__file__).with_name("definition.toml")

# linkIds become CEL variable names in the rule sets, so they must be plain identifiers.
_LINK_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_CODE = re.compile(r"[a-z0-9][a-z0-9_]*\Z")
_RESERVED = frozenset({"age", "true", "false", "null", "in"})

_SECTION_KEYS = frozenset({"link_id", "title", "hint", "enable_when", "enable_behavior", "items"})
_ITEM_KEYS = frozenset(
    {
        "link_id", "type", "text", "hint", "required", "options", "enable_when",
        "enable_behavior", "min_length", "max_length", "min_value", "max_value", "min_age",
        "max_age", "format", "must_agree", "consent", "default",
    }
)  # fmt: skip
_TOP_KEYS = frozenset({"name", "version", "url", "title", "description", "yes", "no", "sections"})
_LIMITS_BY_TYPE = {
    ItemType.STRING: ("min_length", "max_length"),
    ItemType.TEXT: ("min_length", "max_length"),
    ItemType.INTEGER: ("min_value", "max_value"),
    ItemType.DATE: ("min_age", "max_age"),
}


class QuestionnaireError(ValueError):
    """A questionnaire definition that must not be used; `problems` has one line per fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


def load_questionnaire(path: Path | str | None = None) -> Questionnaire:
    """The questionnaire in `path`, or the bundled default (read once and cached)."""
    if path is None:
        return _default_questionnaire()
    return _load(Path(path))


@cache
def _default_questionnaire() -> Questionnaire:
    return _load(DEFAULT_DEFINITION)


def _load(path: Path) -> Questionnaire:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise QuestionnaireError([f"{path.name}: cannot read the definition: {error}"]) from None
    return parse_questionnaire(document)


def parse_questionnaire(document: Mapping[str, object]) -> Questionnaire:
    """Build a `Questionnaire` from parsed TOML, or raise `QuestionnaireError` with every fault."""
    reader = _Reader()
    questionnaire = reader.questionnaire(document)
    if reader.problems or questionnaire is None:
        raise QuestionnaireError(reader.problems)
    return questionnaire


class _Reader(FieldReader):
    """Reads the questionnaire's structure; items may refer only to items read before them."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, ItemType | None] = {}  # link_id -> type (None for a section)
        self.options: dict[str, tuple[str, ...]] = {}

    def questionnaire(self, doc: Mapping[str, object]) -> Questionnaire | None:
        where = "questionnaire"
        self.unknown_keys(where, doc, _TOP_KEYS)
        name = self.string(where, doc, "name")
        version = self.string(where, doc, "version")
        url = doc.get("url") or None
        if url is not None and not isinstance(url, str):
            self.fail(where, "'url' must be a string")
            url = None
        title = self.text(where, doc, "title")
        description = self.text(where, doc, "description", required=False)
        yes = self.text(where, doc, "yes")
        no = self.text(where, doc, "no")
        raw_sections = doc.get("sections")
        if not isinstance(raw_sections, list) or not raw_sections:
            self.fail(where, "'sections' must be a non-empty list of [[sections]]")
            raw_sections = []
        sections = [self.section(index, raw) for index, raw in enumerate(raw_sections, 1)]
        if not (name and version and title and yes and no) or None in sections:
            return None
        return Questionnaire(
            name=name,
            version=version,
            url=url,
            title=title,
            description=description,
            yes=yes,
            no=no,
            sections=tuple(section for section in sections if section is not None),
        )

    def section(self, index: int, raw: object) -> Section | None:
        if not isinstance(raw, Mapping):
            self.fail(f"section {index}", "must be a table")
            return None
        link_id = self.link_id(f"section {index}", raw)
        where = f"section '{link_id}'"
        self.unknown_keys(where, raw, _SECTION_KEYS)
        title = self.text(where, raw, "title")
        hint = self.text(where, raw, "hint", required=False)
        enable_when = self.enable_when(where, raw)
        behavior = self.behavior(where, raw)
        self.seen[link_id] = None
        raw_items = raw.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            self.fail(where, "has no [[sections.items]]")
            raw_items = []
        items = [
            self.item(link_id, position, raw_item) for position, raw_item in enumerate(raw_items, 1)
        ]
        if title is None or None in items:
            return None
        return Section(
            link_id=link_id,
            title=title,
            hint=hint,
            enable_when=enable_when,
            enable_behavior=behavior,
            items=tuple(item for item in items if item is not None),
        )

    def item(self, section: str, position: int, raw: object) -> Item | None:
        if not isinstance(raw, Mapping):
            self.fail(f"section '{section}' item {position}", "must be a table")
            return None
        link_id = self.link_id(f"section '{section}' item {position}", raw)
        where = f"item '{link_id}'"
        self.unknown_keys(where, raw, _ITEM_KEYS)
        raw_type = raw.get("type")
        try:
            item_type = ItemType(cast(str, raw_type))
        except ValueError:
            known = ", ".join(item_type.value for item_type in ItemType)
            self.fail(where, f"unknown type {raw_type!r} (known: {known})")
            return None
        text = self.text(where, raw, "text")
        hint = self.text(where, raw, "hint", required=False)
        required = self.flag(where, raw, "required")
        options = self.answer_options(where, item_type, raw)
        # Conditions are read before this item is registered: an item cannot enable itself.
        enable_when = self.enable_when(where, raw)
        behavior = self.behavior(where, raw)
        limits = self.limits(where, item_type, raw)
        text_format = self.text_format(where, item_type, raw)
        must_agree = self.flag(where, raw, "must_agree")
        if must_agree and (item_type is not ItemType.BOOLEAN or not required):
            self.fail(where, "'must_agree' needs a required boolean item")
        consent = self.consent(where, raw)
        default = raw.get("default")
        if default not in (None, "form_language"):
            self.fail(where, f"unknown default {default!r} (known: 'form_language')")
        if default == "form_language" and set(LANGUAGES) - {o.code for o in options}:
            self.fail(where, "default 'form_language' needs an option for each form language")
        self.seen[link_id] = item_type
        self.options[link_id] = tuple(option.code for option in options)
        if text is None:
            return None
        return Item(
            link_id=link_id,
            type=item_type,
            text=text,
            section=section,
            required=required,
            hint=hint,
            options=options,
            enable_when=enable_when,
            enable_behavior=behavior,
            limits=limits,
            format=text_format,
            must_agree=must_agree,
            consent=consent,
            default_from_form_language=default == "form_language",
        )

    def link_id(self, where: str, raw: Mapping[str, object]) -> str:
        link_id = raw.get("link_id")
        if not isinstance(link_id, str) or not _LINK_ID.match(link_id):
            self.fail(where, f"link_id {link_id!r} must be lower_snake_case letters and digits")
            return str(link_id)
        if link_id in _RESERVED:
            self.fail(f"item '{link_id}'", "this link_id is reserved for the rule language")
        if link_id in self.seen:
            self.fail(f"item '{link_id}'", "duplicate link_id")
        return link_id

    def answer_options(
        self, where: str, item_type: ItemType, raw: Mapping[str, object]
    ) -> tuple[AnswerOption, ...]:
        raw_options = raw.get("options")
        has_options = item_type in (ItemType.CHOICE, ItemType.MULTI_CHOICE)
        if not has_options:
            if raw_options is not None:
                self.fail(where, f"a {item_type} item takes no options")
            return ()
        if not isinstance(raw_options, list) or not raw_options:
            self.fail(where, f"a {item_type} item needs a non-empty 'options' list")
            return ()
        options: list[AnswerOption] = []
        for raw_option in raw_options:
            if not isinstance(raw_option, Mapping):
                self.fail(where, "each option must be a table with code, en and ml")
                continue
            code = raw_option.get("code")
            if not isinstance(code, str) or not _CODE.match(code):
                self.fail(where, f"option code {code!r} must be lower_snake_case")
                continue
            if code in (option.code for option in options):
                self.fail(where, f"duplicate option code '{code}'")
            self.unknown_keys(f"{where} option '{code}'", raw_option, {"code", *LANGUAGES})
            text = self.languages(f"{where} option '{code}'", raw_option)
            if text is not None:
                options.append(AnswerOption(code, text))
        return tuple(options)

    def enable_when(self, where: str, raw: Mapping[str, object]) -> tuple[EnableWhen, ...]:
        conditions = raw.get("enable_when", [])
        if isinstance(conditions, Mapping):
            conditions = [conditions]
        if not isinstance(conditions, list):
            self.fail(where, "'enable_when' must be a table or a list of tables")
            return ()
        parsed: list[EnableWhen] = []
        for condition in conditions:
            if not isinstance(condition, Mapping):
                self.fail(where, "each enable_when must be a table")
                continue
            self.unknown_keys(f"{where} enable_when", condition, {"question", "operator", "answer"})
            enable_when = self.one_enable_when(where, condition)
            if enable_when is not None:
                parsed.append(enable_when)
        return tuple(parsed)

    def one_enable_when(self, where: str, condition: Mapping[str, object]) -> EnableWhen | None:
        question = condition.get("question")
        operator = condition.get("operator", "=")
        answer = condition.get("answer")
        if not isinstance(question, str) or question not in self.seen:
            self.fail(where, f"enable_when refers to unknown or later item {question!r}")
            return None
        question_type = self.seen[question]
        if question_type is None:
            self.fail(where, f"enable_when refers to section '{question}', not an item")
            return None
        if operator not in OPERATORS:
            self.fail(where, f"unknown enable_when operator {operator!r} (known: {OPERATORS})")
            return None
        if operator == "exists" or question_type is ItemType.BOOLEAN:
            valid = isinstance(answer, bool)
            expected = "true or false"
        elif question_type in (ItemType.CHOICE, ItemType.MULTI_CHOICE):
            valid = answer in self.options[question]
            expected = f"one of the codes of '{question}' {self.options[question]}"
        elif question_type is ItemType.INTEGER:
            valid = isinstance(answer, int) and not isinstance(answer, bool)
            expected = "a whole number"
        else:
            valid = isinstance(answer, str)
            expected = "a string"
        if not valid:
            self.fail(where, f"enable_when answer {answer!r} on '{question}' must be {expected}")
            return None
        return EnableWhen(
            question=question,
            operator=operator,
            answer=cast(bool | int | str, answer),
        )

    def behavior(self, where: str, raw: Mapping[str, object]) -> Literal["all", "any"]:
        behavior = raw.get("enable_behavior", "all")
        if behavior not in ("all", "any"):
            self.fail(where, f"enable_behavior {behavior!r} must be 'all' or 'any'")
            return "all"
        return behavior

    def limits(self, where: str, item_type: ItemType, raw: Mapping[str, object]) -> Limits:
        allowed = _LIMITS_BY_TYPE.get(item_type, ())
        values: dict[str, int] = {}
        for key in ("min_length", "max_length", "min_value", "max_value", "min_age", "max_age"):
            value = raw.get(key)
            if value is None:
                continue
            if key not in allowed:
                self.fail(where, f"'{key}' does not apply to a {item_type} item")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self.fail(where, f"'{key}' must be a whole number >= 0, not {value!r}")
            else:
                values[key] = value
        for low, high in (
            ("min_length", "max_length"),
            ("min_value", "max_value"),
            ("min_age", "max_age"),
        ):
            if low in values and high in values and values[low] > values[high]:
                self.fail(where, f"'{low}' {values[low]} is above '{high}' {values[high]}")
        if ("min_age" in values) != ("max_age" in values):
            self.fail(where, "'min_age' and 'max_age' go together")
        if item_type in (ItemType.STRING, ItemType.TEXT) and "max_length" not in values:
            self.fail(where, "a text item needs 'max_length' (nothing is stored unbounded)")
        return Limits(**values)

    def text_format(
        self, where: str, item_type: ItemType, raw: Mapping[str, object]
    ) -> TextFormat | None:
        raw_format = raw.get("format")
        if raw_format is None:
            return None
        try:
            text_format = TextFormat(cast(str, raw_format))
        except ValueError:
            known = ", ".join(text_format.value for text_format in TextFormat)
            self.fail(where, f"unknown format {raw_format!r} (known: {known})")
            return None
        if item_type is not ItemType.STRING:
            self.fail(where, f"format '{text_format}' applies only to a string item")
        return text_format

    def consent(self, where: str, raw: Mapping[str, object]) -> Consent | None:
        raw_consent = raw.get("consent")
        if raw_consent is None:
            return None
        if not isinstance(raw_consent, Mapping):
            self.fail(where, "'consent' must be a table with version, en and ml")
            return None
        self.unknown_keys(f"{where} consent", raw_consent, {"version", *LANGUAGES})
        version = self.string(f"{where} consent", raw_consent, "version")
        text = self.languages(f"{where} consent", raw_consent)
        if version is None or text is None:
            return None
        return Consent(version=version, text=text)
