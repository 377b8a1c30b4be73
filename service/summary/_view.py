"""The summary as the doctor reads it: plain frozen values, already in words, ready to print.

They cross into render worker processes, so they hold only picklable values.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.triage import Priority


@dataclass(frozen=True, slots=True)
class LevelSign:
    """How a level is shown on paper: a word and a shape, so it never rests on colour alone."""

    word: str
    symbol: str
    meaning: str


# The shapes come from the shipped Noto Sans Symbols 2; the meaning is the clinical brief's.
LEVEL_SIGNS: dict[Priority, LevelSign] = {
    Priority.EMERGENCY: LevelSign("EMERGENCY", "▲", "Do not wait for an appointment."),
    Priority.URGENT: LevelSign("URGENT", "◆", "The clinic calls the patient today."),
    Priority.SOON: LevelSign("SOON", "●", "Appointment within 2 weeks."),
    Priority.ROUTINE: LevelSign("ROUTINE", "○", "Normal booking."),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """One question and its answer in words.

    `question` is the full question the patient was asked; `label` its short clinical meaning.
    `own_words` marks text the patient typed: printed verbatim, with `lang` set when its script
    says which language it is in (font choice and the tagged PDF's language depend on it).
    """

    question: str
    label: str
    answer: str
    answered: bool = True
    is_yes: bool = False
    own_words: bool = False
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerGroup:
    """The answers of one questionnaire section, in questionnaire order."""

    title: str
    answers: tuple[Answer, ...]

    @property
    def yes_count(self) -> int:
        return sum(answer.is_yes for answer in self.answers)


@dataclass(frozen=True, slots=True)
class Banner:
    """The level the clinic acts on and, when a doctor overrode it, the computed one beside it."""

    level: Priority
    computed: Priority
    override_reason: str | None = None
    overridden_at: str | None = None

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None

    @property
    def sign(self) -> LevelSign:
        return LEVEL_SIGNS[self.level]

    @property
    def computed_sign(self) -> LevelSign:
        return LEVEL_SIGNS[self.computed]


@dataclass(frozen=True, slots=True)
class FlaggedRule:
    """A red flag: the rule's title, the answers that raised it, and why it matters."""

    rule_id: str
    level: Priority
    title: str
    because: tuple[Answer, ...]
    rationale: str
    source: str

    @property
    def sign(self) -> LevelSign:
        return LEVEL_SIGNS[self.level]


@dataclass(frozen=True, slots=True)
class AreaToExplore:
    """One cause the clinic's patient page names, and the answers that point to it (if any)."""

    title: str
    note: str
    because: tuple[str, ...]

    @property
    def pointed_to(self) -> bool:
        return bool(self.because)


@dataclass(frozen=True, slots=True)
class Patient:
    name: str
    name_lang: str | None
    age: int | None
    birth_date: str
    phone: str
    email: str
    preferred_language: str


@dataclass(frozen=True, slots=True)
class Summary:
    """Everything the PDF shows for one revision of one intake, and nothing it does not.

    `edition` fingerprints what the clinic's configuration contributes (name, time zone,
    questionnaire and rule-set versions), so a cached PDF is never served after they change.
    """

    intake_id: str
    revision: int
    reference: str
    edition: str
    clinic_name: str
    submitted: str
    form_language: str
    patient: Patient
    banner: Banner
    red_flags: tuple[FlaggedRule, ...]
    concern: AnswerGroup
    leakage: AnswerGroup | None
    signs: tuple[AnswerGroup, ...]
    medicines: AnswerGroup
    ssri_note: str | None
    fertility: AnswerGroup
    consent: AnswerGroup
    consent_version: str
    other: tuple[AnswerGroup, ...]
    areas: tuple[AreaToExplore, ...]
    rule_set: str
    questionnaire_version: str

    @property
    def title(self) -> str:
        # No patient name: document titles end up in viewers' recent-file lists.
        return f"Pre-consultation summary {self.reference}"

    @property
    def filename(self) -> str:
        return f"summary-{self.reference}.pdf"
