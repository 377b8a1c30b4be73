"""Property: saying yes to one more warning sign or nerve question never lowers the priority."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from service.questionnaire import ItemType, load_questionnaire
from service.triage import Priority, Triage
from tests.domain.support import TODAY, patient, submit

QUESTIONNAIRE = load_questionnaire()
YES_NO = [
    item.link_id
    for section in ("warning_signs", "nerves")
    for item in QUESTIONNAIRE.section(section).items
    if item.type is ItemType.BOOLEAN and not item.enable_when
]


def _codes(link_id: str) -> list[str]:
    return list(QUESTIONNAIRE.items[link_id].codes)


@st.composite
def intakes(draw: st.DrawFn) -> dict[str, object]:
    """Valid submissions of every shape: sub-questions are always sent, and dropped if hidden."""
    # The rules' age thresholds are drawn often, not left to chance.
    age = draw(st.sampled_from([16, 39, 40, 44, 45, 70, 109]) | st.integers(16, 109))
    birth_date = TODAY.replace(year=TODAY.year - age) - timedelta(days=draw(st.integers(0, 364)))
    # Few yes answers, as most patients give: a flag that lowers the level is then not masked
    # by a more urgent one raised by chance.
    yes = draw(st.sets(st.sampled_from(YES_NO), max_size=4))
    answers: dict[str, object] = {link_id: link_id in yes for link_id in YES_NO}
    answers.update(
        birth_date=birth_date,
        main_concern=draw(st.sampled_from(_codes("main_concern"))),
        leakage_when=draw(st.lists(st.sampled_from(_codes("leakage_when")), min_size=1)),
        blood_in_semen_episodes=draw(st.integers(min_value=1, max_value=999)),
        blood_in_semen_since=draw(st.sampled_from(_codes("blood_in_semen_since"))),
        takes_medicines=draw(st.booleans()),
        antidepressant=draw(st.booleans()),
        symptoms_after_new_medicine=draw(st.booleans()),
        self_harm_thoughts=draw(st.booleans()),
        trying_to_conceive=draw(st.booleans()),
        trying_months=draw(st.integers(min_value=0, max_value=480)),
    )
    return patient(**answers)


def _triage(raw: dict[str, object]) -> Triage:
    result, outcome = submit(raw)
    assert outcome is not None, [(error.field, error.code) for error in result.errors]
    return outcome


@settings(max_examples=300, deadline=None)
@given(intake=intakes())
def test_one_more_yes_never_lowers_the_level(intake: dict[str, object]) -> None:
    before = _triage(intake)
    # Flags reception acts on; a more urgent flag raised by chance must not hide one vanishing.
    acted_on = {fired.rule_id for fired in before.fired if fired.level is not Priority.ROUTINE}
    for link_id in YES_NO:
        if intake[link_id] is False:
            after = _triage({**intake, link_id: True})
            assert after.level.rank <= before.level.rank, f"{link_id}: lowered to {after.level}"
            missing = acted_on - set(after.rule_ids)
            assert not missing, f"{link_id}: yes silenced {missing}"


@settings(max_examples=100, deadline=None)
@given(intake=intakes())
def test_level_is_the_highest_fired_level(intake: dict[str, object]) -> None:
    result, outcome = submit(intake)
    assert outcome is not None, [(error.field, error.code) for error in result.errors]
    assert outcome.level is Priority.highest([fired.level for fired in outcome.fired])
    assert isinstance(intake["birth_date"], date)
