"""The example patients of cases.toml get exactly the priority and red flags written there."""

from __future__ import annotations

from typing import Any

import pytest

from service.triage import load_rule_set
from tests.domain.support import CASES, TODAY, patient, submit


@pytest.mark.parametrize("case", CASES["cases"], ids=[case["name"] for case in CASES["cases"]])
def test_case(case: dict[str, Any]) -> None:
    result, triage = submit(patient(**case.get("answers", {})), case.get("today", TODAY))
    assert result.errors == ()
    assert triage is not None
    assert triage.level == case["level"]
    assert sorted(triage.rule_ids) == sorted(case["rules"])
    if "dropped" in case:
        assert sorted(result.dropped) == sorted(case["dropped"])


def test_every_rule_fires_in_some_case() -> None:
    """A rule no example patient raises is unexplained: the file must grow with the rules."""
    for rule in load_rule_set().rules:
        assert any(rule.id in case["rules"] for case in CASES["cases"]), f"{rule.id} never fires"
