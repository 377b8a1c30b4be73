"""Builds the summary of one stored intake: pure, no database, no clock, no rendering."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime

import phonenumbers

from service.clinic import Clinic
from service.intake import answers_from_json
from service.models import Intake, RedFlag
from service.questionnaire import AnswerValue, Item, ItemType, Questionnaire, Section, age_on
from service.summary._areas import load_areas
from service.summary._labels import load_labels
from service.summary._view import (
    Answer,
    AnswerGroup,
    Banner,
    FlaggedRule,
    Patient,
    Summary,
)
from service.triage import Priority

# Sections the layout places itself (the brief's linkIds); a section the questionnaire adds
# later is printed after them under its own title, so no answer is ever left out.
PATIENT = "patient"
CONCERN = "concern"
LEAKAGE = "leakage"
SIGN_SECTIONS = ("warning_signs", "nerves")
MEDICINES = "medicines"
FERTILITY = "fertility"
CONSENT = "consent"
PLACED = frozenset({PATIENT, CONCERN, LEAKAGE, MEDICINES, FERTILITY, CONSENT, *SIGN_SECTIONS})
ANTIDEPRESSANT = "antidepressant"

SSRI_NOTE = (
    "SSRIs and similar medicines can cause semen leakage, low libido, delayed ejaculation and "
    "erectile dysfunction. Review with the prescriber; the patient must not stop the medicine "
    "abruptly."
)
NOT_ANSWERED = "Not answered"
LANGUAGE_NAMES = {"en": "English", "ml": "Malayalam"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MALAYALAM = range(0x0D00, 0x0D80)


def summary_of(intake: Intake, clinic: Clinic) -> Summary:
    """The summary of `intake` as it stands at `intake.revision` (red flags must be loaded).

    Queue status is left out on purpose: it changes without a new `revision`, and a cached PDF
    must never show a stale one.
    """
    questionnaire = clinic.questionnaire
    answers = answers_from_json(questionnaire, intake.answers)
    words = _Words(questionnaire)
    groups = {
        section.link_id: _group(section, answers, words) for section in questionnaire.sections
    }
    leakage = groups.get(LEAKAGE)
    return Summary(
        intake_id=str(intake.id),
        revision=intake.revision,
        reference=intake.reference,
        edition=edition_of(clinic),
        clinic_name=clinic.name,
        submitted=_moment(intake.submitted_at, clinic),
        form_language=LANGUAGE_NAMES.get(intake.language, intake.language),
        patient=_patient(answers, words, clinic.today(intake.submitted_at)),
        banner=_banner(intake, clinic),
        red_flags=_red_flags(intake.red_flags, clinic, words),
        concern=groups.get(CONCERN) or AnswerGroup("Main concern", ()),
        leakage=leakage if leakage and leakage.answers else None,
        signs=tuple(groups[link_id] for link_id in SIGN_SECTIONS if link_id in groups),
        medicines=groups.get(MEDICINES) or AnswerGroup("Medicines", ()),
        ssri_note=SSRI_NOTE if answers.get(ANTIDEPRESSANT) is True else None,
        fertility=groups.get(FERTILITY) or AnswerGroup("Fertility", ()),
        consent=groups.get(CONSENT) or AnswerGroup("Consent", ()),
        consent_version=intake.consent_version,
        other=tuple(
            group for link_id, group in groups.items() if link_id not in PLACED and group.answers
        ),
        areas=tuple(area.explored(answers) for area in load_areas()),
        rule_set=f"{intake.rule_set} v{intake.rule_set_version}",
        questionnaire_version=intake.questionnaire_version,
    )


def edition_of(clinic: Clinic) -> str:
    """A short fingerprint of what the clinic's configuration puts into every summary."""
    parts = (
        clinic.name,
        clinic.timezone.key,
        clinic.questionnaire.name,
        clinic.questionnaire.version,
        clinic.rule_set.name,
        str(clinic.rule_set.version),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def script_language(text: str) -> str | None:
    """`ml` when `text` is written in Malayalam script; None when the document's own will do."""
    return "ml" if any(ord(char) in _MALAYALAM for char in text) else None


class _Words:
    """Answers in the clinic's working language (English), as the questionnaire words them."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.questionnaire = questionnaire
        self.labels = load_labels()
        self.yes = questionnaire.yes.en
        self.no = questionnaire.no.en

    def option(self, link_id: str, code: str) -> str:
        item = self.questionnaire.items.get(link_id)
        options = {option.code: option.text.en for option in item.options} if item else {}
        return options.get(code, code)

    def of(self, item: Item, value: AnswerValue) -> str:
        match item.type:
            case ItemType.BOOLEAN:
                return self.yes if value is True else self.no
            case ItemType.CHOICE:
                return self.option(item.link_id, str(value))
            case ItemType.MULTI_CHOICE if isinstance(value, tuple):
                return "; ".join(self.option(item.link_id, code) for code in value)
            case ItemType.DATE if isinstance(value, date):
                return _day(value)
            case _:
                return str(value)

    def answer(self, item: Item, value: AnswerValue | None) -> Answer:
        label = self.labels.get(item.link_id, item.text.en)
        own_words = item.type is ItemType.TEXT
        if value is None:
            return Answer(item.text.en, label, NOT_ANSWERED, answered=False, own_words=own_words)
        text = self.of(item, value)
        return Answer(
            question=item.text.en,
            label=label,
            answer=text,
            is_yes=value is True,
            own_words=own_words,
            lang=script_language(text) if own_words else None,
        )


def _group(section: Section, answers: Mapping[str, AnswerValue], words: _Words) -> AnswerGroup:
    # An item asked of everyone is listed even when blank; a conditional one only when answered.
    always_asked = not section.enable_when
    return AnswerGroup(
        title=section.title.en,
        answers=tuple(
            words.answer(item, answers.get(item.link_id))
            for item in section.items
            if item.link_id in answers or (always_asked and not item.enable_when)
        ),
    )


def _patient(answers: Mapping[str, AnswerValue], words: _Words, today: date) -> Patient:
    name = str(answers.get("full_name", ""))
    birth_date = answers.get("birth_date")
    language = answers.get("preferred_language")
    email = answers.get("email")
    return Patient(
        name=name,
        name_lang=script_language(name),
        age=age_on(birth_date, today) if isinstance(birth_date, date) else None,
        birth_date=_day(birth_date) if isinstance(birth_date, date) else NOT_ANSWERED,
        phone=_phone(str(answers.get("phone", ""))),
        email=email if isinstance(email, str) else "",
        preferred_language=(
            words.option("preferred_language", language)
            if isinstance(language, str)
            else NOT_ANSWERED
        ),
    )


def _banner(intake: Intake, clinic: Clinic) -> Banner:
    computed = Priority(intake.computed_priority)
    if intake.override_priority is None:
        return Banner(level=computed, computed=computed)
    return Banner(
        level=Priority(intake.override_priority),
        computed=computed,
        override_reason=intake.override_reason or "(no reason recorded)",
        overridden_at=_moment(intake.overridden_at, clinic) if intake.overridden_at else None,
    )


def _red_flags(flags: list[RedFlag], clinic: Clinic, words: _Words) -> tuple[FlaggedRule, ...]:
    rules = {rule.id: rule for rule in clinic.rule_set.rules}
    current = [flag for flag in flags if flag.superseded_at is None]
    # Most urgent first; within a level, the rule set's order (the order they were stored in).
    current.sort(key=lambda flag: Priority(flag.level).rank)
    flagged = []
    for flag in current:
        rule = rules.get(flag.rule_id)
        flagged.append(
            FlaggedRule(
                rule_id=flag.rule_id,
                level=Priority(flag.level),
                title=rule.title.en if rule else flag.rule_id,
                because=_because(flag.triggering_answers, words),
                rationale=rule.rationale if rule else "",
                source=rule.source if rule else "",
            )
        )
    return tuple(flagged)


def _because(triggering: Mapping[str, object], words: _Words) -> tuple[Answer, ...]:
    """The triggering answers in questionnaire order (PostgreSQL's JSONB keeps no key order)."""
    questionnaire = words.questionnaire
    typed = answers_from_json(questionnaire, triggering)
    because = [
        words.answer(item, typed[link_id])
        for link_id, item in questionnaire.items.items()
        if link_id in typed
    ]
    age = triggering.get("age")
    if isinstance(age, int):
        because.append(Answer("Age on the day of submission", "Age", str(age)))
    return tuple(because)


def _moment(moment: datetime, clinic: Clinic) -> str:
    local = moment.astimezone(clinic.timezone)
    return f"{_day(local.date())}, {local:%H:%M} {local.tzname()}"


def _day(day: date) -> str:
    # Spelled out by hand: month names must not depend on the worker's locale.
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _phone(stored: str) -> str:
    """The E.164 number grouped for reading aloud (+91 98765 43210)."""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
