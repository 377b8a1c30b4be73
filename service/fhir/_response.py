"""The patient's answers as QuestionnaireResponse items, nested in the questionnaire's groups."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from service.questionnaire import AnswerValue, Item, ItemType, Language, Questionnaire

JsonObject = dict[str, Any]


def response_items(
    questionnaire: Questionnaire, answers: Mapping[str, AnswerValue], language: Language
) -> list[JsonObject]:
    """One group per section with answers, holding its answered items in questionnaire order.

    Texts are in the intake's language; what the patient typed is passed on verbatim.
    """
    groups = []
    for section in questionnaire.sections:
        answered = [
            _item(item, answers[item.link_id], language)
            for item in section.items
            if item.link_id in answers
        ]
        if answered:
            groups.append(
                {"linkId": section.link_id, "text": section.title.get(language), "item": answered}
            )
    return groups


def _item(item: Item, value: AnswerValue, language: Language) -> JsonObject:
    return {
        "linkId": item.link_id,
        "text": item.text.get(language),
        "answer": [_answer(item, part, language) for part in _parts(value)],
    }


def _parts(value: AnswerValue) -> tuple[bool | int | str | date, ...]:
    # A multi-choice answer is one FHIR answer per chosen code.
    return value if isinstance(value, tuple) else (value,)


def _answer(item: Item, value: bool | int | str | date, language: Language) -> JsonObject:
    match item.type:
        case ItemType.BOOLEAN:
            return {"valueBoolean": value}
        case ItemType.INTEGER:
            return {"valueInteger": value}
        case ItemType.DATE:
            return {"valueDate": value.isoformat() if isinstance(value, date) else str(value)}
        case ItemType.CHOICE | ItemType.MULTI_CHOICE:
            # Codes carry no system, exactly as the Questionnaire's answerOption codings.
            words = {option.code: option.text.get(language) for option in item.options}
            coding = {"code": str(value)}
            if str(value) in words:
                coding["display"] = words[str(value)]
            return {"valueCoding": coding}
        case _:
            return {"valueString": str(value)}
