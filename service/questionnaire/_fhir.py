"""Renders the questionnaire as a FHIR R4 Questionnaire resource (JSON-ready dict).

The requested language fills `text`; the other language rides along in the FHIR translation
extension on `_text`, so one resource serves both. Hints and the consent text are child
`display` items, as FHIR SDC does it.
"""

from __future__ import annotations

import re
from typing import Any

from service.questionnaire._model import EnableWhen, Item, ItemType, Questionnaire, Section
from service.questionnaire._text import LANGUAGES, Language, LocalizedText

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MIN_LENGTH = "http://hl7.org/fhir/StructureDefinition/minLength"

_FHIR_TYPE = {
    ItemType.BOOLEAN: "boolean",
    ItemType.INTEGER: "integer",
    ItemType.STRING: "string",
    ItemType.TEXT: "text",
    ItemType.DATE: "date",
    ItemType.CHOICE: "choice",
    ItemType.MULTI_CHOICE: "choice",
}

# The QuestionnaireResponse answer value[x] of each Questionnaire item type (FHIR R4).
ANSWER_VALUE = {
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "string": "valueString",
    "text": "valueString",
    "date": "valueDate",
    "choice": "valueCoding",
}

JsonObject = dict[str, Any]


def answer_value(item_type: ItemType) -> str:
    """The value[x] an answer to an item of this type carries in a QuestionnaireResponse."""
    return ANSWER_VALUE[_FHIR_TYPE[item_type]]


def answer_system(base: str, link_id: str) -> str:
    """The code system of one choice item's answer options, under the clinic's FHIR base URI."""
    return f"{base.rstrip('/')}/answer/{link_id}"


def consent_version_extension(base: str) -> str:
    """The canonical URL of the extension (and its StructureDefinition) that carries the version
    of the consent text on the consent item's display child."""
    return f"{base.rstrip('/')}/StructureDefinition/consent-version"


def fhir_name(name: str) -> str:
    """A canonical resource's `name`: machine-friendly PascalCase, as FHIR wants it (cnl-0):
    clinic_intake (or clinic-intake) -> ClinicIntake."""
    return "".join(part.capitalize() for part in re.split(r"[_\-]", name))


def questionnaire_url(questionnaire: Questionnaire, base: str) -> str:
    """The canonical URL: the definition file's, else one under the clinic's FHIR base URI."""
    return questionnaire.url or f"{base.rstrip('/')}/Questionnaire/{questionnaire.name}"


def to_fhir_questionnaire(
    questionnaire: Questionnaire, language: Language, *, base: str
) -> JsonObject:
    """The questionnaire as FHIR R4 JSON in `language`. `base` is the clinic's FHIR base URI
    (FHIR_IDENTIFIER_SYSTEM): the canonical URL when the file names none, and the systems of
    the answer codes and of the consent-version extension hang under it."""
    render = _Render(questionnaire, language, base)
    resource: JsonObject = {
        "resourceType": "Questionnaire",
        "id": questionnaire.name.replace("_", "-"),
        "language": language,
        "url": questionnaire_url(questionnaire, base),
        "version": questionnaire.version,
        "name": fhir_name(questionnaire.name),
        **_texts("title", questionnaire.title, language),
        "status": "active",
        "subjectType": ["Patient"],
    }
    if questionnaire.description is not None:
        resource.update(_texts("description", questionnaire.description, language))
    resource["item"] = [render.group(section) for section in questionnaire.sections]
    return resource


class _Render:
    def __init__(self, questionnaire: Questionnaire, language: Language, base: str) -> None:
        self.questionnaire = questionnaire
        self.language = language
        self.base = base

    def group(self, section: Section) -> JsonObject:
        language = self.language
        group: JsonObject = {
            "linkId": section.link_id,
            **_texts("text", section.title, language),
            "type": "group",
        }
        group.update(self.enable_when(section.enable_when, section.enable_behavior))
        children = [self.question(item) for item in section.items]
        if section.hint is not None:
            children.insert(0, _display(f"{section.link_id}-intro", section.hint, language))
        group["item"] = children
        return group

    def question(self, item: Item) -> JsonObject:
        language = self.language
        question: JsonObject = {
            "linkId": item.link_id,
            **_texts("text", item.text, language),
            "type": _FHIR_TYPE[item.type],
            "required": item.required,
        }
        extensions = _limit_extensions(item)
        if extensions:
            question["extension"] = extensions
        if item.type is ItemType.MULTI_CHOICE:
            question["repeats"] = True
        if item.limits.max_length is not None:
            question["maxLength"] = item.limits.max_length
        question.update(self.enable_when(item.enable_when, item.enable_behavior))
        if item.options:
            # The form's language preselected: R4 says so on the option (que-11 forbids
            # `initial` beside answerOption).
            preselected = language if item.default_from_form_language else None
            system = answer_system(self.base, item.link_id)
            question["answerOption"] = [
                {
                    "valueCoding": {
                        "system": system,
                        "code": option.code,
                        **_texts("display", option.text, language),
                    },
                    **({"initialSelected": True} if option.code == preselected else {}),
                }
                for option in item.options
            ]
        children: list[JsonObject] = []
        if item.hint is not None:
            hint = _display(f"{item.link_id}-hint", item.hint, language)
            hint["extension"] = [_item_control("flyover")]
            children.append(hint)
        if item.consent is not None:
            terms = _display(f"{item.link_id}-consent-text", item.consent.text, language)
            version = {"url": consent_version_extension(self.base)}
            terms["extension"] = [{**version, "valueString": item.consent.version}]
            children.append(terms)
        if children:
            question["item"] = children
        return question

    def enable_when(self, conditions: tuple[EnableWhen, ...], behavior: str) -> JsonObject:
        if not conditions:
            return {}
        rendered = [self.condition(condition) for condition in conditions]
        # FHIR que-12: enableBehavior is required when there is more than one enableWhen.
        more = {"enableBehavior": behavior} if len(rendered) > 1 else {}
        return {"enableWhen": rendered, **more}

    def condition(self, condition: EnableWhen) -> JsonObject:
        question_type = self.questionnaire.items[condition.question].type
        rendered: JsonObject = {"question": condition.question, "operator": condition.operator}
        if condition.operator == "exists" or question_type is ItemType.BOOLEAN:
            rendered["answerBoolean"] = condition.answer
        elif question_type in (ItemType.CHOICE, ItemType.MULTI_CHOICE):
            system = answer_system(self.base, condition.question)
            rendered["answerCoding"] = {"system": system, "code": condition.answer}
        elif question_type is ItemType.INTEGER:
            rendered["answerInteger"] = condition.answer
        else:
            rendered["answerString"] = condition.answer
        return rendered


def _limit_extensions(item: Item) -> list[JsonObject]:
    limits = item.limits
    extensions: list[JsonObject] = []
    if limits.min_value is not None:
        extensions.append({"url": MIN_VALUE, "valueInteger": limits.min_value})
    if limits.max_value is not None:
        extensions.append({"url": MAX_VALUE, "valueInteger": limits.max_value})
    if limits.min_length is not None:
        extensions.append({"url": MIN_LENGTH, "valueInteger": limits.min_length})
    return extensions


def _display(link_id: str, text: LocalizedText, language: Language) -> JsonObject:
    return {"linkId": link_id, **_texts("text", text, language), "type": "display"}


def _item_control(code: str) -> JsonObject:
    coding = {"system": ITEM_CONTROL_SYSTEM, "code": code}
    return {"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [coding]}}


def _texts(key: str, text: LocalizedText, language: Language) -> JsonObject:
    """`key` in `language`, and `_key` carrying the other languages as translations."""
    translations = [
        {
            "url": TRANSLATION,
            "extension": [
                {"url": "lang", "valueCode": other},
                {"url": "content", "valueString": text.get(other)},
            ],
        }
        for other in LANGUAGES
        if other != language
    ]
    return {key: text.get(language), f"_{key}": {"extension": translations}}
