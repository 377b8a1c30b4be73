"""The questionnaire definition holds every item of the brief, in both languages, and a bad
definition is refused with a message naming the item."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from service.questionnaire import (
    DEFAULT_DEFINITION,
    ItemType,
    LocalizedText,
    QuestionnaireError,
    error_messages,
    load_questionnaire,
)
from service.triage import load_advice

MALAYALAM = re.compile("[\u0d00-\u0d7f]")
B, N, S, T, D, C, M = (ItemType.BOOLEAN, ItemType.INTEGER, ItemType.STRING, ItemType.TEXT,
                       ItemType.DATE, ItemType.CHOICE, ItemType.MULTI_CHOICE)  # fmt: skip
YES_NO_REQUIRED = (B, True, ())

# The clinical brief: section -> linkId -> (type, required when shown, option codes)
BRIEF: dict[str, dict[str, tuple[ItemType, bool, tuple[str, ...]]]] = {
    "patient": {
        "full_name": (S, True, ()),
        "birth_date": (D, True, ()),
        "phone": (S, True, ()),
        "email": (S, False, ()),
        "preferred_language": (C, False, ("en", "ml")),
    },
    "concern": {
        "main_concern": (C, True, ("semen_leakage", "erectile_difficulty", "premature_ejaculation",
                                   "fertility", "low_desire", "other")),
        "concern_details": (T, False, ()),
        "symptom_duration": (C, True, ("lt_1_week", "1_4_weeks", "1_6_months", "gt_6_months")),
    },
    "leakage": {
        "leakage_when": (M, True, ("arousal", "after_ejaculation", "sleep",
                                   "urination_or_straining", "random")),
        "leakage_frequency": (C, False, ("rarely", "weekly", "daily")),
    },
    "warning_signs": {
        "blood_in_semen": YES_NO_REQUIRED,
        "blood_in_semen_episodes": (N, True, ()),
        "blood_in_semen_since": (C, True, ("lt_1_month", "gt_1_month")),
        **dict.fromkeys(
            ["urination_difficulty", "urination_pain", "unable_to_urinate", "blood_in_urine",
             "semen_bad_smell", "semen_abnormal_appearance", "premature_ejaculation",
             "painful_ejaculation", "erectile_difficulty", "fever", "pelvic_pain",
             "urethral_discharge", "genital_sores", "testicular_pain_sudden", "testicular_lump",
             "erection_over_4h", "penile_injury", "chest_pain"],
            YES_NO_REQUIRED,
        ),
    },
    "nerves": dict.fromkeys(
        ["spine_or_groin_surgery", "spine_injury", "saddle_numbness",
         "new_bladder_bowel_problem", "leg_weakness"],
        YES_NO_REQUIRED,
    ),
    "medicines": {
        "takes_medicines": YES_NO_REQUIRED,
        "medicines_list": (T, False, ()),
        "antidepressant": YES_NO_REQUIRED,
        "symptoms_after_new_medicine": YES_NO_REQUIRED,
        "self_harm_thoughts": YES_NO_REQUIRED,
    },
    "fertility": {"trying_to_conceive": YES_NO_REQUIRED, "trying_months": (N, True, ())},
    "consent": {"consent_privacy": YES_NO_REQUIRED, "consent_contact": (B, False, ())},
}  # fmt: skip

# linkId (or section) -> (question, answer) of its enableWhen in the brief
ENABLE_WHEN = {
    "leakage": ("main_concern", "semen_leakage"),
    "blood_in_semen_episodes": ("blood_in_semen", True),
    "blood_in_semen_since": ("blood_in_semen", True),
    "medicines_list": ("takes_medicines", True),
    "antidepressant": ("takes_medicines", True),
    "symptoms_after_new_medicine": ("takes_medicines", True),
    "self_harm_thoughts": ("antidepressant", True),
    "trying_months": ("trying_to_conceive", True),
}


def test_every_brief_item_is_in_its_section_with_its_type_and_codes() -> None:
    questionnaire = load_questionnaire()
    assert questionnaire.version == "2026.11.1"
    assert [section.link_id for section in questionnaire.sections] == list(BRIEF)
    for section in questionnaire.sections:
        found = {item.link_id: (item.type, item.required, item.codes) for item in section.items}
        assert found == BRIEF[section.link_id], section.link_id


def test_enable_when_matches_the_brief() -> None:
    questionnaire = load_questionnaire()
    conditions = {
        section.link_id: [(c.question, c.operator, c.answer) for c in section.enable_when]
        for section in questionnaire.sections
        if section.enable_when
    }
    conditions.update(
        (item.link_id, [(c.question, c.operator, c.answer) for c in item.enable_when])
        for item in questionnaire.items.values()
        if item.enable_when
    )
    assert conditions == {key: [(q, "=", a)] for key, (q, a) in ENABLE_WHEN.items()}


def test_limits_of_the_brief() -> None:
    items = load_questionnaire().items
    assert (items["full_name"].limits.min_length, items["full_name"].limits.max_length) == (1, 120)
    assert (items["birth_date"].limits.min_age, items["birth_date"].limits.max_age) == (16, 110)
    assert items["concern_details"].limits.max_length == 2000
    assert items["blood_in_semen_episodes"].limits.min_value == 1
    limits = items["trying_months"].limits
    assert (limits.min_value, limits.max_value) == (0, 480)
    assert items["consent_privacy"].must_agree


def test_consent_carries_its_text_and_version_in_both_languages() -> None:
    consent_item = load_questionnaire().consent_item
    assert consent_item is not None
    assert consent_item.link_id == "consent_privacy"
    assert consent_item.consent is not None
    assert consent_item.consent.version
    _assert_both_languages(consent_item.consent.text, "consent text")


def _assert_both_languages(text: LocalizedText, where: str) -> None:
    assert text.en.strip(), f"{where}: no English"
    assert MALAYALAM.search(text.ml), f"{where}: no Malayalam text"
    assert not MALAYALAM.search(text.en), f"{where}: Malayalam in the English text"


def _all_texts() -> list[tuple[str, LocalizedText]]:
    questionnaire = load_questionnaire()
    texts = [("title", questionnaire.title), ("yes", questionnaire.yes), ("no", questionnaire.no)]
    if questionnaire.description:
        texts.append(("description", questionnaire.description))
    for section in questionnaire.sections:
        texts.append((f"section {section.link_id}", section.title))
        if section.hint:
            texts.append((f"section {section.link_id} hint", section.hint))
        for item in section.items:
            texts.append((item.link_id, item.text))
            if item.hint:
                texts.append((f"{item.link_id} hint", item.hint))
            texts.extend((f"{item.link_id} option {o.code}", o.text) for o in item.options)
    texts.extend((f"error {code}", text) for code, text in error_messages().items())
    advice = load_advice()
    texts.append(("reference", advice.reference))
    texts.extend((f"advice {level}", text) for level, text in advice.levels.items())
    texts.extend((f"notice {notice.id}", notice.text) for notice in advice.notices)
    texts.extend((f"education {item.id}", item.text) for item in advice.education)
    return texts


def test_every_item_option_hint_error_and_advice_has_malayalam() -> None:
    texts = _all_texts()
    assert len(texts) > 100
    for where, text in texts:
        if where == "preferred_language option ml":
            # The language choice names Malayalam in its own script on the English form too.
            assert MALAYALAM.search(text.ml), where
            continue
        _assert_both_languages(text, where)


def test_every_advice_level_and_error_code_used_has_text() -> None:
    assert set(load_advice().levels) == {"emergency", "urgent", "soon", "routine"}
    codes = set(error_messages())
    source = "".join(
        path.read_text(encoding="utf-8") for path in Path(DEFAULT_DEFINITION).parent.glob("_*.py")
    )
    used = set(re.findall(r'(?:InvalidAnswerError|self\.error)\([^"\n]*?"(\w+)"', source))
    used |= set(re.findall(r'code = "(\w+)" if', source)) | {"required"}
    assert {"unknown_item", "consent_required", "invalid_phone"} <= used
    assert used <= codes, used - codes


# --------------------------------------------------------------- refusing a bad definition

DEFINITION = DEFAULT_DEFINITION.read_text(encoding="utf-8")


def _refused(tmp_path: Path, old: str, new: str) -> str:
    assert old in DEFINITION, old
    path = tmp_path / "definition.toml"
    path.write_text(DEFINITION.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as refused:
        load_questionnaire(path)
    return str(refused.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param('link_id = "fever"\ntype = "boolean"', 'link_id = "fever"\ntype = "yesno"',
                     "item 'fever': unknown type 'yesno'", id="unknown type"),
        pytest.param('link_id = "chest_pain"', 'link_id = "fever"',
                     "item 'fever': duplicate link_id", id="duplicate linkId"),
        pytest.param('"takes_medicines", operator = "=", answer = true }\ntext.en = "Which',
                     '"takes_medicine", operator = "=", answer = true }\ntext.en = "Which',
                     "item 'medicines_list': enable_when refers to unknown or later item "
                     "'takes_medicine'", id="enableWhen unknown item"),
        pytest.param('enable_when = { question = "antidepressant"',
                     'enable_when = { question = "trying_to_conceive"',
                     "item 'self_harm_thoughts': enable_when refers to unknown or later item "
                     "'trying_to_conceive'", id="enableWhen later item"),
        pytest.param('{ code = "weekly", en = "Every week", ml = "ആഴ്ചയിൽ ഒരിക്കലെങ്കിലും" }',
                     '{ code = "weekly", en = "Every week" }',
                     "item 'leakage_frequency' option 'weekly': missing Malayalam text ('ml')",
                     id="option without Malayalam"),
        pytest.param('text.ml = "ശുക്ലത്തിന് ദുർഗന്ധം ഉണ്ടോ?"\n', "",
                     "item 'semen_bad_smell' text: missing Malayalam text ('ml')",
                     id="question without Malayalam"),
        pytest.param('answer = "semen_leakage" }', 'answer = "leakage" }',
                     "section 'leakage': enable_when answer 'leakage' on 'main_concern' must be "
                     "one of the codes", id="enableWhen unknown code"),
        pytest.param('operator = "=", answer = true }\ntext.en = "How many',
                     'operator = "=", answer = 1 }\ntext.en = "How many',
                     "item 'blood_in_semen_episodes': enable_when answer 1 on 'blood_in_semen' "
                     "must be true or false", id="enableWhen wrong answer type"),
        pytest.param('operator = "=", answer = true }\ntext.en = "How many',
                     'operator = "~", answer = true }\ntext.en = "How many',
                     "item 'blood_in_semen_episodes': unknown enable_when operator '~'",
                     id="enableWhen unknown operator"),
        pytest.param('{ code = "daily", en = "Every day", ml = "ദിവസവും" },',
                     '{ code = "weekly", en = "Every day", ml = "ദിവസവും" },',
                     "item 'leakage_frequency': duplicate option code 'weekly'",
                     id="duplicate option"),
        pytest.param('link_id = "email"\ntype = "string"', 'link_id = "email"\ntype = "choice"',
                     "item 'email': a choice item needs a non-empty 'options' list",
                     id="choice without options"),
        pytest.param("max_length = 2000", "max_len = 2000",
                     "item 'concern_details': unknown key 'max_len'", id="unknown key"),
        pytest.param("min_value = 0\nmax_value = 480", "min_value = 480\nmax_value = 0",
                     "item 'trying_months': 'min_value' 480 is above 'max_value' 0",
                     id="limits reversed"),
        pytest.param('link_id = "phone"', 'link_id = "Phone Number"',
                     "link_id 'Phone Number' must be lower_snake_case", id="bad linkId"),
        pytest.param('link_id = "spine_injury"', 'link_id = "age"',
                     "item 'age': this link_id is reserved", id="reserved linkId"),
        pytest.param('version = "2026.11.1"', "", "questionnaire: missing 'version'",
                     id="no version"),
        pytest.param('version = "privacy-2026.11.1"\n', "",
                     "item 'consent_privacy' consent: missing 'version'",
                     id="consent without version"),
    ],
)  # fmt: skip
def test_bad_definition_is_refused_naming_the_item(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert message in _refused(tmp_path, old, new)


def test_every_fault_is_listed(tmp_path: Path) -> None:
    document: dict[str, Any] = tomllib.loads(DEFINITION)
    document["sections"][0]["items"][0]["type"] = "name"
    document["sections"][1]["items"][0]["text"] = {"en": "Concern"}
    path = tmp_path / "definition.toml"
    path.write_text(_to_toml(document), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as refused:
        load_questionnaire(path)
    assert len(refused.value.problems) == 2


def _to_toml(document: dict[str, Any]) -> str:
    """Just enough TOML writing for this test (JSON strings are valid TOML basic strings)."""
    import json

    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{k} = {value(v)}" for k, v in item.items()) + " }"
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        return json.dumps(item, ensure_ascii=False)

    return "\n".join(f"{key} = {value(item)}" for key, item in document.items())


def test_unreadable_definition_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "definition.toml"
    path.write_text("version = \n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"^definition\.toml: cannot read"):
        load_questionnaire(path)


def test_the_default_is_loaded_once() -> None:
    assert load_questionnaire() is load_questionnaire()
