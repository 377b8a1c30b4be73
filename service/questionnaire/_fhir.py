"""Renders the questionnaire as a FHIR R4 Questionnaire resource (JSON-ready dict).

The requested language fills `text`; the other language rides along in the FHIR translation
extension on `_text`, so one resource serves both. Hints and the consent text are child
`display` items, as FHIR SDC does it.
"""

from __future__ import annotations

from typing import Any

from service.questionnaire._model import EnableWhen, Item, ItemType, Questionnaire, Section
from service.questionnaire._text import LANGUAGES, Language, LocalizedText

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MIN_LENGTH = "http://hl7.org/fhir/StructureDefinition/minLength"
CONSENT_VERSION = "urn:clinic-intake:fhir:StructureDefinition:consent-version"

_FHIR_TYPE = {
    ItemType.BOOLEAN: "boolean",
    ItemType.INTEGER: "integer",
    ItemType.STRING: "string",
    ItemType.TEXT: "text",
    ItemType.DATE: "date",
    ItemType.CHOICE: "choice",
    ItemType.MULTI_CHOICE: "choice",
}

JsonObject = dict[str, Any]


def to_fhir_questionnaire(
    questionnaire: Questionnaire, language: Language, *, canonical_url: str | None = None
) -> JsonObject:
    """The questionnaire as FHIR R4 JSON in `language`; `canonical_url` overrides the file's."""
    resource: JsonObject = {
        "resourceType": "Questionnaire",
        "id": questionnaire.name.replace("_", "-"),
        "language": language,
        "version": questionnaire.version,
        # FHIR wants a machine-friendly PascalCase name (cnl-0): clinic_intake -> ClinicIntake.
        "name": "".join(part.capitalize() for part in questionnaire.name.split("_")),
        **_texts("title", questionnaire.title, language),
        "status": "active",
        "subjectType": ["Patient"],
    }
    url = canonical_url or questionnaire.url
    if url:
        resource["url"] = url
    if questionnaire.description is not None:
        resource.update(_texts("description", questionnaire.description, language))
    resource["item"] = [
        _group(section, questionnaire, language) for section in questionnaire.sections
    ]
    return resource


def _group(section: Section, questionnaire: Questionnaire, language: Language) -> JsonObject:
    group: JsonObject = {
        "linkId": section.link_id,
        **_texts("text", section.title, language),
        "type": "group",
    }
    group.update(_enable_when(section.enable_when, section.enable_behavior, questionnaire))
    children = [_question(item, questionnaire, language) for item in section.items]
    if section.hint is not None:
        children.insert(0, _display(f"{section.link_id}-intro", section.hint, language))
    group["item"] = children
    return group


def _question(item: Item, questionnaire: Questionnaire, language: Language) -> JsonObject:
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
    question.update(_enable_when(item.enable_when, item.enable_behavior, questionnaire))
    if item.options:
        # The form's language preselected: R4 says so on the option (que-11 forbids `initial`
        # beside answerOption).
        preselected = language if item.default_from_form_language else None
        question["answerOption"] = [
            {
                "valueCoding": {"code": option.code, **_texts("display", option.text, language)},
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
        terms["extension"] = [{"url": CONSENT_VERSION, "valueString": item.consent.version}]
        children.append(terms)
    if children:
        question["item"] = children
    return question


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


def _enable_when(
    conditions: tuple[EnableWhen, ...], behavior: str, questionnaire: Questionnaire
) -> JsonObject:
    if not conditions:
        return {}
    rendered = [_condition(condition, questionnaire) for condition in conditions]
    # FHIR que-12: enableBehavior is required when there is more than one enableWhen.
    return {"enableWhen": rendered, **({"enableBehavior": behavior} if len(rendered) > 1 else {})}


def _condition(condition: EnableWhen, questionnaire: Questionnaire) -> JsonObject:
    question_type = questionnaire.items[condition.question].type
    rendered: JsonObject = {"question": condition.question, "operator": condition.operator}
    if condition.operator == "exists" or question_type is ItemType.BOOLEAN:
        rendered["answerBoolean"] = condition.answer
    elif question_type in (ItemType.CHOICE, ItemType.MULTI_CHOICE):
        rendered["answerCoding"] = {"code": condition.answer}
    elif question_type is ItemType.INTEGER:
        rendered["answerInteger"] = condition.answer
    else:
        rendered["answerString"] = condition.answer
    return rendered


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
