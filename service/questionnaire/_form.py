"""Reads an HTML form post into the typed answers that `validate_answers` checks.

A browser sends only text. Values that cannot be read stay text, so validation reports them
(with the patient's input kept) instead of this step guessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.questionnaire._model import ItemType, Questionnaire

_YES = frozenset({"yes", "true", "on"})
_NO = frozenset({"no", "false"})


def answers_from_form(
    questionnaire: Questionnaire, form: Mapping[str, str | Sequence[str]]
) -> dict[str, object]:
    """The questionnaire's fields of `form` as API-style answers; other fields are left out.

    `form` maps a field name to its value, or to all its values (a multi-choice sends one per
    ticked box). Yes/no radios send "yes"/"no"; an empty field is no answer.
    """
    answers: dict[str, object] = {}
    for link_id, item in questionnaire.items.items():
        if link_id not in form:
            continue
        raw = form[link_id]
        values = [raw] if isinstance(raw, str) else list(raw)
        if item.type is ItemType.MULTI_CHOICE:
            answers[link_id] = [value for value in values if value.strip()]
            continue
        if len({value.strip() for value in values if value.strip()}) > 1:
            # Two different answers to one question (no browser sends that): validation refuses
            # a list here, rather than one of them being picked silently.
            answers[link_id] = values
            continue
        value = values[0].strip() if values else ""
        if not value:
            answers[link_id] = None
        elif item.type is ItemType.BOOLEAN:
            answers[link_id] = _yes_no(value)
        elif item.type is ItemType.INTEGER:
            answers[link_id] = _whole_number(value)
        else:
            answers[link_id] = values[0]  # free text keeps its own spacing until validation
    return answers


def _yes_no(value: str) -> bool | str:
    lowered = value.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    return value


def _whole_number(value: str) -> int | str:
    digits = value.removeprefix("-").removeprefix("+")
    # isdecimal() also accepts Malayalam digits (൧൨ is 12), which int() reads correctly.
    if digits.isdecimal() and len(digits) <= 9:
        return int(value)
    return value
