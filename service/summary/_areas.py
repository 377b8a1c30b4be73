"""The "areas to explore": the patient page's causes of leakage, matched to an intake's answers.

The mapping is `areas.toml`, which a clinician reviews; `check_areas` ties it to the questionnaire.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.questionnaire import AnswerValue, ItemType, Questionnaire
from service.summary._view import AreaToExplore

DEFAULT_AREAS = Path(__file__).with_name("areas.toml")


class AreasError(ValueError):
    """The areas file cannot be used; the message names the area and the problem."""


@dataclass(frozen=True, slots=True)
class Sign:
    question: str
    answer: str | bool
    label: str

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        value = answers.get(self.question)
        if isinstance(value, tuple):
            return self.answer in value
        # `is` for booleans: an integer 1 is not a "yes".
        if isinstance(self.answer, bool):
            return value is self.answer
        return value == self.answer


@dataclass(frozen=True, slots=True)
class Area:
    title: str
    note: str
    signs: tuple[Sign, ...]

    def explored(self, answers: Mapping[str, AnswerValue]) -> AreaToExplore:
        because = tuple(sign.label for sign in self.signs if sign.holds(answers))
        return AreaToExplore(title=self.title, note=self.note, because=because)


@cache
def load_areas(path: Path = DEFAULT_AREAS) -> tuple[Area, ...]:
    """The areas in `path`, in the order the patient page gives the causes."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AreasError(f"{path.name}: cannot read the areas: {error}") from None
    raw_areas = document.get("areas")
    if not isinstance(raw_areas, list) or not raw_areas:
        raise AreasError(f"{path.name}: 'areas' must be a non-empty list of [[areas]]")
    return tuple(_area(index, raw) for index, raw in enumerate(raw_areas, 1))


def check_areas(questionnaire: Questionnaire, areas: tuple[Area, ...] | None = None) -> None:
    """Raise `AreasError` when a sign names a question or option the questionnaire lacks."""
    problems: list[str] = []
    for area in areas if areas is not None else load_areas():
        for sign in area.signs:
            item = questionnaire.items.get(sign.question)
            if item is None:
                problems.append(f"{area.title}: unknown question '{sign.question}'")
            elif isinstance(sign.answer, bool):
                if item.type is not ItemType.BOOLEAN:
                    problems.append(f"{area.title}: '{sign.question}' is not a yes/no question")
            elif sign.answer not in item.codes:
                problems.append(f"{area.title}: '{sign.question}' has no option '{sign.answer}'")
    if problems:
        raise AreasError("; ".join(problems))


def _area(index: int, raw: object) -> Area:
    if not isinstance(raw, Mapping):
        raise AreasError(f"area {index}: must be a table")
    title, note, signs = raw.get("title"), raw.get("note"), raw.get("signs")
    if not isinstance(title, str) or not title.strip():
        raise AreasError(f"area {index}: missing 'title'")
    if not isinstance(note, str) or not isinstance(signs, list) or not signs:
        raise AreasError(f"{title}: needs a 'note' and a non-empty list of 'signs'")
    return Area(title.strip(), " ".join(note.split()), tuple(_sign(title, s) for s in signs))


def _sign(title: str, raw: object) -> Sign:
    if not isinstance(raw, Mapping):
        raise AreasError(f"{title}: each sign must be a table")
    question, answer, label = raw.get("question"), raw.get("answer", True), raw.get("label")
    if not isinstance(question, str) or not isinstance(label, str) or not label.strip():
        raise AreasError(f"{title}: each sign needs a 'question' and a 'label'")
    if not isinstance(answer, str | bool):
        raise AreasError(f"{title}: '{question}': 'answer' must be an option code")
    return Sign(question, answer, label.strip())
