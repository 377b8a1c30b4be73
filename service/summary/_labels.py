"""Short labels for the doctor's PDF, from `labels.toml`: the clinical meaning of each question."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from service.questionnaire import Questionnaire

DEFAULT_LABELS = Path(__file__).with_name("labels.toml")


class LabelsError(ValueError):
    """The labels file cannot be used; the message says which entry and why."""


@cache
def load_labels(path: Path = DEFAULT_LABELS) -> Mapping[str, str]:
    """Label by link_id."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise LabelsError(f"{path.name}: cannot read the labels: {error}") from None
    labels = document.get("labels")
    if not isinstance(labels, dict):
        raise LabelsError(f"{path.name}: needs a [labels] table")
    bad = sorted(key for key, value in labels.items() if not isinstance(value, str) or not value)
    if bad:
        raise LabelsError(f"{path.name}: each label must be non-empty text: {', '.join(bad)}")
    return MappingProxyType({key: value.strip() for key, value in labels.items()})


def check_labels(questionnaire: Questionnaire, labels: Mapping[str, str] | None = None) -> None:
    """Raise `LabelsError` for a label whose question the questionnaire does not have."""
    unknown = sorted(
        set(labels if labels is not None else load_labels()) - set(questionnaire.items)
    )
    if unknown:
        raise LabelsError(f"labels for unknown questions: {', '.join(unknown)}")
