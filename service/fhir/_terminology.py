"""The clinic's own FHIR definitions, served at `/fhir`: a CodeSystem for every system our
codings name, and the StructureDefinition of our one extension. Pure: built from the loaded
questionnaire and rule set, under the clinic's base URI (FHIR_IDENTIFIER_SYSTEM).

Every Coding the service writes with a system under that base (the answer options, the red-flag
rules, the levels, the queue statuses, the rule set) can be resolved to one of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.clinic import Clinic
from service.codes import STATUS_LABELS, Status
from service.fhir._codes import LEVEL_DISPLAY, Systems
from service.questionnaire import LANGUAGES, Language, LocalizedText, fhir_name
from service.triage import Priority

JsonObject = dict[str, Any]

# The language of the definitions' `display`; the others ride in `designation`.
DEFINITION_LANGUAGE: Language = "en"


def code_systems(clinic: Clinic, base: str) -> list[JsonObject]:
    """Every CodeSystem of the clinic, each with a FHIR id from its URL's last part."""
    systems = Systems(base)
    questionnaire = clinic.questionnaire
    rule_set = clinic.rule_set
    answers = [
        _code_system(
            systems.answer(item.link_id),
            f"answer-{item.link_id}",
            version=questionnaire.version,
            title=f"Answers to {item.link_id}: {item.text.get(DEFINITION_LANGUAGE)}",
            concepts=[_concept(option.code, option.text) for option in item.options],
        )
        for item in questionnaire.items.values()
        if item.options
    ]
    return [
        *answers,
        _code_system(
            systems.red_flag_rule,
            "red-flag-rule",
            version=str(rule_set.version),
            title=f"Red-flag rules of rule set {rule_set.name}",
            concepts=[
                _concept(rule.id, rule.title, definition=rule.rationale) for rule in rule_set.rules
            ],
        ),
        _code_system(
            systems.priority,
            "priority",
            version=None,
            title="How soon the clinic acts on an intake",
            concepts=[_concept(level.value, LEVEL_DISPLAY[level]) for level in Priority],
        ),
        _code_system(
            systems.queue_status,
            "queue-status",
            version=None,
            title="Where an intake stands in the reception queue",
            concepts=[_concept(status.value, STATUS_LABELS[status]) for status in Status],
        ),
        _code_system(
            systems.rule_set,
            "rule-set",
            version=str(rule_set.version),
            title="The red-flag rule sets that set an intake's level",
            concepts=[_concept(rule_set.name, f"Red-flag rules {rule_set.name}")],
        ),
    ]


def consent_version_definition(base: str) -> JsonObject:
    """The StructureDefinition of the extension on the consent text (a `display` item of the
    Questionnaire): the version of the text the patient agreed to, a string."""
    url = Systems(base).consent_version
    return {
        "resourceType": "StructureDefinition",
        "id": "consent-version",
        "url": url,
        "name": "ConsentVersion",
        "title": "Consent text version",
        "status": "active",
        "description": "The version of the consent text shown with a consent item; the intake "
        "stores it with the patient's agreement.",
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": "Questionnaire.item"}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Extension",
                    "path": "Extension",
                    "short": "Consent text version",
                    "definition": "The version of the consent text shown with this item.",
                    "max": "1",
                },
                {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
                {
                    "id": "Extension.value[x]",
                    "path": "Extension.value[x]",
                    "min": 1,
                    "type": [{"code": "string"}],
                },
            ]
        },
    }


def _code_system(
    url: str, name: str, *, version: str | None, title: str, concepts: Iterable[JsonObject]
) -> JsonObject:
    listed = list(concepts)
    resource: JsonObject = {
        "resourceType": "CodeSystem",
        "id": _fhir_id(name),
        "url": url,
        **({"version": version} if version is not None else {}),
        "name": fhir_name(name),
        "title": title,
        "status": "active",
        "language": DEFINITION_LANGUAGE,
        "caseSensitive": True,
        "content": "complete",
        "count": len(listed),
        "concept": listed,
    }
    return resource


def _concept(code: str, display: LocalizedText | str, *, definition: str = "") -> JsonObject:
    concept: JsonObject = {"code": code}
    if isinstance(display, str):
        concept["display"] = display
    else:
        concept["display"] = display.get(DEFINITION_LANGUAGE)
        others = [
            {"language": language, "value": display.get(language)}
            for language in LANGUAGES
            if language != DEFINITION_LANGUAGE
        ]
        concept["designation"] = others
    if definition:
        concept["definition"] = definition
    return concept


def _fhir_id(name: str) -> str:
    """FHIR ids allow letters, digits, `-` and `.`: linkIds' underscores become hyphens."""
    return name.replace("_", "-")
