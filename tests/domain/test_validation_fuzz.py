"""Fuzzing the validation layer with hypothesis: whatever arrives, a clear result, never a crash.

Any JSON value under any key (known linkIds and made-up ones) gives either accepted answers or
errors that name a field the request had or a question of the form, in both languages; accepted
text is the patient's own (in Unicode's canonical form) with no control character, and triage
runs on every accepted set.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.questionnaire import ItemType, load_questionnaire
from tests.domain.support import patient, submit

QUESTIONNAIRE = load_questionnaire()
LINK_IDS = list(QUESTIONNAIRE.items)
TEXT_ITEMS = [
    link_id
    for link_id, item in QUESTIONNAIRE.items.items()
    if item.type in (ItemType.STRING, ItemType.TEXT) and item.format is None
]

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Strings a patient might type, hostile ones and every Unicode category included.
typed = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ["", " ", "\u200d", "\u202e", "\x00", "\r\n", "ക്ഷ", "<script>", "=1+1", "e\u0301"]
)


def _hidden_controls(text: str) -> list[str]:
    """Control characters and lone surrogates, except the line break and tab of free text."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t"]


def _check(raw: dict[str, object]) -> None:
    result, triage = submit(raw)
    if result.ok:
        assert triage is not None
        assert set(result.answers) <= set(LINK_IDS)
        for value in result.answers.values():
            if isinstance(value, str):
                assert not _hidden_controls(value)
    else:
        assert triage is None
        # Unknown keys are echoed shortened: the first 80 characters and an ellipsis.
        sent = {key if len(key) <= 80 else key[:80] + "…" for key in map(str, raw)}
        for error in result.errors:
            # A field the request sent, a question of the form (a required one left out), or
            # the answers as a whole.
            field = error.field
            assert field in sent or field in LINK_IDS or field == "answers", error
            assert error.message.en
            assert error.message.ml


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(LINK_IDS) | st.text(max_size=20), json_values))
def test_any_json_under_any_key_gets_a_clear_result(changes: dict[str, object]) -> None:
    _check(patient(**changes))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TEXT_ITEMS), typed)
def test_typed_text_is_kept_as_typed_or_refused_on_its_own_field(link_id: str, text: str) -> None:
    raw = patient(**{link_id: text})
    result, _ = submit(raw)
    if result.ok:
        if link_id in result.answers:
            expected = text.replace("\r\n", "\n").replace("\r", "\n")
            expected = unicodedata.normalize("NFC", expected).strip()
            assert result.answers[link_id] == expected
            assert not _hidden_controls(expected), "a control character was accepted"
    else:
        assert {error.field for error in result.errors} == {link_id}, result.errors
