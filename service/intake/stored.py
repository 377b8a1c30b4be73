"""Answers as stored in the database (JSON) and back: dates as ISO strings, lists for tuples."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from service.intake.new import NewRedFlag
from service.questionnaire import AnswerValue, ItemType, Questionnaire
from service.triage import PatientAdvice, Triage


def answers_to_json(answers: Mapping[str, AnswerValue]) -> dict[str, object]:
    stored: dict[str, object] = {}
    for link_id, value in answers.items():
        if isinstance(value, date):
            stored[link_id] = value.isoformat()
        elif isinstance(value, tuple):
            stored[link_id] = list(value)
        else:
            stored[link_id] = value
    return stored


def answers_from_json(
    questionnaire: Questionnaire, stored: Mapping[str, object]
) -> dict[str, AnswerValue]:
    """The typed answers again. Items no longer in the questionnaire are left out."""
    answers: dict[str, AnswerValue] = {}
    for link_id, value in stored.items():
        item = questionnaire.items.get(link_id)
        if item is None:
            continue
        if item.type is ItemType.DATE and isinstance(value, str):
            answers[link_id] = date.fromisoformat(value)
        elif item.type is ItemType.MULTI_CHOICE and isinstance(value, list):
            answers[link_id] = tuple(str(code) for code in value)
        elif isinstance(value, bool | int | str):
            answers[link_id] = value
    return answers


@dataclass(frozen=True)
class ToldAdvice:
    """What the patient was told, as stored: shown first (large), next steps, education."""

    first: tuple[str, ...]
    next_steps: str
    education: tuple[str, ...]

    @property
    def paragraphs(self) -> list[str]:
        return [part for part in (*self.first, self.next_steps, *self.education) if part]


def advice_to_json(advice: PatientAdvice) -> dict[str, object]:
    return {
        "first": list(advice.first),
        "next_steps": advice.next_steps,
        "education": list(advice.education),
    }


def advice_from_json(stored: Mapping[str, object]) -> ToldAdvice:
    def texts(key: str) -> tuple[str, ...]:
        value = stored.get(key)
        return tuple(str(part) for part in value) if isinstance(value, list) else ()

    return ToldAdvice(
        first=texts("first"),
        next_steps=str(stored.get("next_steps") or ""),
        education=texts("education"),
    )


def red_flags_of(triage: Triage, fired_at: datetime) -> tuple[NewRedFlag, ...]:
    """The rows that record which rules fired, and on which answers."""
    return tuple(
        NewRedFlag(
            rule_id=fired.rule_id,
            rule_set_version=fired.rule_set_version,
            level=fired.level.value,
            triggering_answers=answers_to_json(dict(fired.triggering_answers)),
            fired_at=fired_at,
        )
        for fired in triage.fired
    )
