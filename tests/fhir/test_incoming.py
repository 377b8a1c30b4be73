"""The QuestionnaireResponse reader on any JSON at all: a clean refusal or answers, never a crash
(a crash there is a 500 on a public route)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.fhir import QuestionnaireResponseError, ResponseAnswers, read_questionnaire_response
from service.questionnaire import LANGUAGES, load_questionnaire, to_fhir_questionnaire
from tests.fhir.responses import response_to
from tests.patients import patient_json

BY_LANGUAGE = {
    language: to_fhir_questionnaire(
        load_questionnaire(), language, base="https://clinic.example/fhir"
    )
    for language in LANGUAGES
}
SERVED = BY_LANGUAGE["en"]
CANONICAL = f"{SERVED['url']}|{SERVED['version']}"


def _link_ids(items: list[dict[str, object]]) -> list[str]:
    found: list[str] = []
    for item in items:
        found.append(str(item["linkId"]))
        found.extend(_link_ids(item.get("item", [])))  # type: ignore[arg-type]
    return found


KEYS = st.sampled_from(
    ["linkId", "item", "answer", "valueBoolean", "valueInteger", "valueString", "valueDate",
     "valueCoding", "valueDecimal", "code", "system", "display", "text"]
) | st.text(max_size=6)  # fmt: skip
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from(_link_ids(SERVED["item"]))
    | st.text(max_size=12)
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=40,
)


def read(resource: object) -> ResponseAnswers | QuestionnaireResponseError:
    """The answers, or the refusal; any other exception fails the test."""
    try:
        return read_questionnaire_response(resource, BY_LANGUAGE)
    except QuestionnaireResponseError as refused:
        return refused


# A valid response (every kind of answer, the leakage group, follow-up questions) in which any
# one place is then replaced by any JSON: deep enough to reach every check.
VALID = response_to(
    SERVED,
    patient_json(
        main_concern="semen_leakage",
        leakage_when=["arousal", "sleep"],
        blood_in_semen=True,
        blood_in_semen_episodes=2,
        blood_in_semen_since="gt_1_month",
    ),
)


def _places(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(value, dict):
        found += [p for k, v in value.items() for p in _places(v, (*path, k))]
    elif isinstance(value, list):
        found += [p for i, v in enumerate(value) for p in _places(v, (*path, i))]
    return found


PLACES = _places(VALID)[1:]


def _replaced(path: tuple[object, ...], new: object) -> dict[str, object]:
    resource = copy.deepcopy(VALID)
    container: Any = resource
    for step in path[:-1]:
        container = container[step]
    container[path[-1]] = new
    return resource


def test_the_valid_response_is_read() -> None:
    outcome = read(VALID)
    assert isinstance(outcome, ResponseAnswers), outcome
    assert outcome.answers["leakage_when"] == ["arousal", "sleep"]


@settings(max_examples=600, deadline=None)
@given(place=st.sampled_from(PLACES), new=JSON)
def test_any_one_place_replaced_by_any_json_is_answers_or_a_refusal(
    place: tuple[object, ...], new: object
) -> None:
    outcome = read(_replaced(place, new))
    if isinstance(outcome, QuestionnaireResponseError):
        assert outcome.problems
        assert all(p.expression and p.message for p in outcome.problems)


@settings(max_examples=400, deadline=None)
@given(items=JSON, language=st.none() | JSON)
def test_any_items_are_answers_or_a_refusal(items: object, language: object) -> None:
    resource = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": CANONICAL,
        "item": items,
        **({"language": language} if language is not None else {}),
    }
    outcome = read(resource)
    if isinstance(outcome, QuestionnaireResponseError):
        assert outcome.problems
        assert all(p.expression and p.message for p in outcome.problems)
    else:
        json.dumps(outcome.answers)  # plain JSON values, as the JSON API takes them


@settings(max_examples=200, deadline=None)
@given(resource=JSON)
def test_any_body_at_all_is_answers_or_a_refusal(resource: object) -> None:
    outcome = read(resource)
    assert isinstance(outcome, ResponseAnswers) or outcome.problems


def test_the_shapes_that_once_crashed_it_are_refused() -> None:
    """Found in review: each of these raised TypeError (a 500)."""
    base = {"resourceType": "QuestionnaireResponse", "status": "completed"}
    fever = {"linkId": "fever", "answer": [{"valueBoolean": True, "item": 3}]}
    unhashable = {"linkId": "fever", "answer": [{"valueBoolean": True, "item": [{"linkId": []}]}]}
    system = {"linkId": "main_concern", "answer": [{"valueCoding": {"code": "x", "system": []}}]}
    for item in (fever, unhashable, system):
        group = "concern" if item is system else "warning_signs"
        resource = {**base, "questionnaire": CANONICAL, "item": [{"linkId": group, "item": [item]}]}
        refused = read(resource)
        assert isinstance(refused, QuestionnaireResponseError), item
        assert [p.expression for p in refused.problems] == [item["linkId"]]


def test_a_response_naming_no_language_is_in_the_language_of_its_texts() -> None:
    answers = patient_json(preferred_language="en")
    for language, served in BY_LANGUAGE.items():
        response = response_to(served, answers)
        del response["language"]
        outcome = read(response)
        assert isinstance(outcome, ResponseAnswers)
        assert outcome.language == language
    # Without texts, or with texts of no questionnaire's, the language is not known here.
    bare = response_to(SERVED, answers)
    del bare["language"]
    for group in bare["item"]:
        del group["text"]
        for item in group["item"]:
            item["text"] = "?"
    outcome = read(bare)
    assert isinstance(outcome, ResponseAnswers)
    assert outcome.language is None
