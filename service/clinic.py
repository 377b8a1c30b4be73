"""What the intake pipeline needs to know about the clinic, loaded and checked once at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.questionnaire import Consent, Questionnaire, QuestionnaireError, load_questionnaire
from service.settings import Settings
from service.triage import Advice, RuleSet, load_advice, load_rule_set


@dataclass(frozen=True)
class Clinic:
    """The questionnaire, rule set and advice in force; the clinic's name, phone and time zone."""

    questionnaire: Questionnaire
    consent: Consent
    rule_set: RuleSet
    advice: Advice
    name: str
    phone: str
    timezone: ZoneInfo

    @classmethod
    def load(cls, settings: Settings) -> Clinic:
        """Load and validate every data file; a bad one raises with the item or rule named."""
        custom = settings.questionnaire_file is not None or settings.rule_set_file is not None
        questionnaire = load_questionnaire(settings.questionnaire_file)
        # The bundled files are parsed once per process and cached; custom ones every time.
        rule_set = (
            load_rule_set(settings.rule_set_file, questionnaire) if custom else load_rule_set()
        )
        consent_item = questionnaire.consent_item
        if consent_item is None or consent_item.consent is None:
            raise QuestionnaireError(["the questionnaire has no consent item with a consent text"])
        return cls(
            questionnaire=questionnaire,
            consent=consent_item.consent,
            rule_set=rule_set,
            advice=load_advice(None, rule_set) if custom else load_advice(),
            name=settings.clinic_name,
            phone=settings.clinic_phone,
            timezone=settings.clinic_timezone,
        )

    def today(self, now: datetime) -> date:
        """The clinic-local date at `now`: ages and the queue's day are counted on it."""
        return now.astimezone(self.timezone).date()
