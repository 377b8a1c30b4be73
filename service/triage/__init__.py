"""Red-flag triage: the rule sets, the pure engine, and what the patient is told."""

from service.codes import Priority
from service.triage._advice import (
    Advice,
    Education,
    Notice,
    PatientAdvice,
    load_advice,
    patient_advice,
    reference_line,
)
from service.triage._conditions import ConditionError
from service.triage._engine import (
    FiredRule,
    Triage,
    TriggeringAnswers,
    emergency_answers,
    evaluate,
    is_emergency_answer,
)
from service.triage._ruleset import (
    DEFAULT_RULES,
    Rule,
    RuleSet,
    RuleSetError,
    check_rule_file,
    load_rule_set,
    parse_rule_set,
)

__all__ = [
    "DEFAULT_RULES",
    "Advice",
    "ConditionError",
    "Education",
    "FiredRule",
    "Notice",
    "PatientAdvice",
    "Priority",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "Triage",
    "TriggeringAnswers",
    "check_rule_file",
    "emergency_answers",
    "evaluate",
    "is_emergency_answer",
    "load_advice",
    "load_rule_set",
    "parse_rule_set",
    "patient_advice",
    "reference_line",
]
