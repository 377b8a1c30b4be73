"""The intake questionnaire: its reviewed definition, answer validation and FHIR rendering."""

from service.questionnaire._answers import age_on
from service.questionnaire._fhir import (
    ANSWER_VALUE,
    answer_system,
    answer_value,
    consent_version_extension,
    fhir_name,
    questionnaire_url,
    to_fhir_questionnaire,
)
from service.questionnaire._form import answers_from_form
from service.questionnaire._loader import (
    DEFAULT_DEFINITION,
    QuestionnaireError,
    load_questionnaire,
    parse_questionnaire,
)
from service.questionnaire._messages import error_messages
from service.questionnaire._model import (
    AnswerOption,
    AnswerValue,
    Consent,
    EnableWhen,
    Item,
    ItemType,
    Limits,
    Questionnaire,
    Section,
    TextFormat,
)
from service.questionnaire._text import LANGUAGES, Language, LocalizedText, is_language
from service.questionnaire._validation import (
    NOT_ENABLED,
    AnswerError,
    KeepWhenDisabled,
    ValidationResult,
    WhenDisabled,
    validate_answers,
)
from service.questionnaire._words import answer_in_words, question_in_words

__all__ = [
    "ANSWER_VALUE",
    "DEFAULT_DEFINITION",
    "LANGUAGES",
    "NOT_ENABLED",
    "AnswerError",
    "AnswerOption",
    "AnswerValue",
    "Consent",
    "EnableWhen",
    "Item",
    "ItemType",
    "KeepWhenDisabled",
    "Language",
    "Limits",
    "LocalizedText",
    "Questionnaire",
    "QuestionnaireError",
    "Section",
    "TextFormat",
    "ValidationResult",
    "WhenDisabled",
    "age_on",
    "answer_in_words",
    "answer_system",
    "answer_value",
    "answers_from_form",
    "consent_version_extension",
    "error_messages",
    "fhir_name",
    "is_language",
    "load_questionnaire",
    "parse_questionnaire",
    "question_in_words",
    "questionnaire_url",
    "to_fhir_questionnaire",
    "validate_answers",
]
