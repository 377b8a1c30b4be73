"""What the patient is told after submitting: emergency first, the crisis line, education."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.questionnaire import Language
from service.triage import RuleSetError, load_advice, load_rule_set, patient_advice, reference_line
from service.triage._advice import DEFAULT_ADVICE
from tests.domain.support import patient, submit

PHONE = "+91 471 255 0000"


def _advice(
    language: Language = "en", **answers: object
) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    result, triage = submit(patient(**answers), language=language)
    assert triage is not None
    advice = patient_advice(triage, result.answers, language, clinic_phone=PHONE)
    assert "RF-" not in advice.text
    return advice.first, advice.next_steps, advice.education


@pytest.mark.parametrize("language", ["en", "ml"])
def test_emergency_instruction_comes_first_with_112_and_the_clinic_phone(
    language: Language,
) -> None:
    first, next_steps, education = _advice(language, erection_over_4h=True)
    assert len(first) == 1
    assert "112" in first[0]
    assert PHONE in first[0]
    assert next_steps == ""
    assert education == ()


def test_self_harm_adds_the_crisis_line() -> None:
    first, _, _ = _advice(takes_medicines=True, antidepressant=True,
                          symptoms_after_new_medicine=False, self_harm_thoughts=True)  # fmt: skip
    assert len(first) == 2
    assert "112" in first[0]
    assert "Tele-MANAS" in first[1]
    assert "14416" in first[1]
    ml_first, _, _ = _advice("ml", takes_medicines=False, self_harm_thoughts=True)
    assert "14416" in ml_first[1]


def test_urgent_soon_and_routine_say_what_happens_next() -> None:
    assert "call you today" in _advice(urethral_discharge=True)[1]
    assert "appointment soon" in _advice(testicular_lump=True)[1]
    first, routine, _ = _advice()
    assert first == ()
    assert "as booked" in routine


def test_pre_ejaculate_education_only_for_leakage_on_arousal_alone() -> None:
    (snippet,) = _advice(main_concern="semen_leakage", leakage_when=["arousal"])[2]
    assert "condom" in snippet
    assert (
        _advice(main_concern="semen_leakage", leakage_when=["arousal", "after_ejaculation"])[2]
        == ()
    )
    # not at a higher level: the next steps matter more then
    assert (
        _advice(main_concern="semen_leakage", leakage_when=["arousal"], semen_bad_smell=True)[2]
        == ()
    )


def test_sleep_education_whenever_leakage_happens_in_sleep() -> None:
    (snippet,) = _advice(main_concern="semen_leakage", leakage_when=["sleep", "random"])[2]
    assert "common" in snippet
    ml = _advice("ml", main_concern="semen_leakage", leakage_when=["sleep"])[2]
    assert "സ്വപ്നസ്ഖലനം" in ml[0]


def test_advice_text_joins_the_parts_in_order() -> None:
    result, triage = submit(patient(takes_medicines=False, self_harm_thoughts=True))
    assert triage is not None
    advice = patient_advice(triage, result.answers, "en", clinic_phone=PHONE)
    assert advice.text == "\n\n".join(advice.first)


def test_reference_line_in_both_languages() -> None:
    assert "K7Q-4MX" in reference_line("K7Q-4MX", "en")
    assert "K7Q-4MX" in reference_line("K7Q-4MX", "ml")
    assert load_advice() is load_advice()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('when_rule = "RF-SELF-HARM"', 'when_rule = "RF-SELFHARM"', "unknown rule 'RF-SELFHARM'"),
        ("It does not weaken the body.", "See RF-URINARY.", "must not name a rule id"),
        ("or call 112. You can also call the clinic on {clinic_phone}.", "or call a doctor.",
         "levels.emergency: must give 112 and {clinic_phone}"),
        ('includes = "sleep"', 'includes = "night"', "needs 'only' or 'includes' with codes"),
        ("Please quote it", "Please quote {code}", "unknown placeholder(s) ['code']"),
    ],
)  # fmt: skip
def test_a_bad_advice_file_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = DEFAULT_ADVICE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "advice.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RuleSetError) as refused:
        load_advice(path, load_rule_set())
    assert message in str(refused.value)
