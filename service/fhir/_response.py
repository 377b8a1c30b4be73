"""The patient's answers as a QuestionnaireResponse: its items nested in the questionnaire's
groups, on its own (`/fhir/QuestionnaireResponse/{id}`) or in the export Bundle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from service.fhir._codes import Systems
from service.intake import answers_from_json
from service.questionnaire import (
    AnswerValue,
    Item,
    ItemType,
    Language,
    Questionnaire,
    answer_system,
    answer_value,
    is_language,
    load_questionnaire,
    questionnaire_url,
)
from service.settings import DEFAULT_FHIR_IDENTIFIER_SYSTEM

JsonObject = dict[str, Any]


class AnsweredIntake(Protocol):
    """What a QuestionnaireResponse is made of: a stored intake, or one just submitted."""

    @property
    def id(self) -> UUID: ...
    @property
    def language(self) -> str: ...
    @property
    def questionnaire_version(self) -> str: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def answers(self) -> Mapping[str, object]: ...


def questionnaire_response(
    intake: AnsweredIntake, questionnaire: Questionnaire, *, identifier_system: str
) -> JsonObject:
    """The intake's answers as a QuestionnaireResponse of their own, whose id is the intake id.

    The service keeps no patient register, so the subject is named by the intake identifier, as
    the export Bundle's Patient is.
    """
    systems = Systems(identifier_system)
    answered = answered_resource(intake, questionnaire, systems)
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(intake.id),
        **answered,
        "subject": {"type": "Patient", "identifier": {**answered["identifier"], "use": "temp"}},
    }
    return QuestionnaireResponse.model_validate(resource).model_dump(mode="json")


def example_response(example: Mapping[str, Any]) -> JsonObject:
    """What an SDC form filler sends for the JSON API's example body (`language`, `answers`):
    the schema's example, against the bundled questionnaire under the default base URI."""
    questionnaire = load_questionnaire()
    base = DEFAULT_FHIR_IDENTIFIER_SYSTEM
    language: Language = "ml" if example["language"] == "ml" else "en"
    answers = answers_from_json(questionnaire, example["answers"])
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(questionnaire, base)}|{questionnaire.version}",
        "status": "completed",
        "language": language,
        "item": response_items(questionnaire, answers, language, base=base),
    }


def answered_resource(
    intake: AnsweredIntake, questionnaire: Questionnaire, systems: Systems
) -> JsonObject:
    """The QuestionnaireResponse's own fields, but its subject."""
    language: Language = intake.language if is_language(intake.language) else "en"
    canonical = questionnaire_url(questionnaire, systems.base)
    answers = answers_from_json(questionnaire, intake.answers)
    return {
        "identifier": {"system": systems.intake, "value": str(intake.id)},
        "language": language,
        # The version the patient answered, which may be older than the one served now.
        "questionnaire": f"{canonical}|{intake.questionnaire_version}",
        "status": "completed",
        "authored": intake.submitted_at.isoformat(),
        "item": response_items(questionnaire, answers, language, base=systems.base),
    }


def response_items(
    questionnaire: Questionnaire,
    answers: Mapping[str, AnswerValue],
    language: Language,
    *,
    base: str,
) -> list[JsonObject]:
    """One group per section with answers, holding its answered items in questionnaire order.

    Texts are in the intake's language; what the patient typed is passed on verbatim. Answer
    codes carry the system of the Questionnaire's answerOption codings (under `base`).
    """
    groups = []
    for section in questionnaire.sections:
        answered = [
            _item(item, answers[item.link_id], language, base)
            for item in section.items
            if item.link_id in answers
        ]
        if answered:
            groups.append(
                {"linkId": section.link_id, "text": section.title.get(language), "item": answered}
            )
    return groups


def _item(item: Item, value: AnswerValue, language: Language, base: str) -> JsonObject:
    return {
        "linkId": item.link_id,
        "text": item.text.get(language),
        "answer": [_answer(item, part, language, base) for part in _parts(value)],
    }


def _parts(value: AnswerValue) -> tuple[bool | int | str | date, ...]:
    # A multi-choice answer is one FHIR answer per chosen code.
    return value if isinstance(value, tuple) else (value,)


def _answer(
    item: Item, value: bool | int | str | date, language: Language, base: str
) -> JsonObject:
    key = answer_value(item.type)
    match item.type:
        case ItemType.BOOLEAN | ItemType.INTEGER:
            return {key: value}
        case ItemType.DATE:
            return {key: value.isoformat() if isinstance(value, date) else str(value)}
        case ItemType.CHOICE | ItemType.MULTI_CHOICE:
            # Exactly as the Questionnaire's answerOption codings.
            words = {option.code: option.text.get(language) for option in item.options}
            coding = {"system": answer_system(base, item.link_id), "code": str(value)}
            if str(value) in words:
                coding["display"] = words[str(value)]
            return {key: coding}
        case _:
            return {key: str(value)}
