"""Answers in words: the question's text and the chosen option's text, for people to read."""

from __future__ import annotations

from service.questionnaire._model import ItemType, Questionnaire
from service.questionnaire._text import Language


def question_in_words(questionnaire: Questionnaire, link_id: str, language: Language) -> str:
    item = questionnaire.items.get(link_id)
    return item.text.get(language) if item else link_id


def answer_in_words(
    questionnaire: Questionnaire, link_id: str, value: object, language: Language
) -> str:
    """How a stored (JSON) answer reads: Yes/No, option texts, or the value itself."""
    item = questionnaire.items.get(link_id)
    if isinstance(value, bool):
        return (questionnaire.yes if value else questionnaire.no).get(language)
    if item is None:
        return str(value)
    options = {option.code: option.text.get(language) for option in item.options}
    if item.type is ItemType.MULTI_CHOICE and isinstance(value, list):
        return ", ".join(options.get(str(code), str(code)) for code in value)
    if item.type is ItemType.CHOICE:
        return options.get(str(value), str(value))
    return str(value)
