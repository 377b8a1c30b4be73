"""Example patients as the API receives them (JSON values), from tests/domain/cases.toml."""

from __future__ import annotations

from datetime import date

from tests.domain.support import CASES


def patient_json(**changes: object) -> dict[str, object]:
    """The base patient of cases.toml (valid, no red flag) with `changes`, JSON-ready."""
    answers = {key: value for key, value in CASES["base"].items() if key != "today"}
    answers.update(changes)
    return {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in answers.items()
    }


def intake_body(language: str = "en", **changes: object) -> dict[str, object]:
    return {"language": language, "answers": patient_json(**changes)}
