"""Rule-set files made from the default one, changed the way a clinic would change it."""

from __future__ import annotations

from pathlib import Path

from service.triage import DEFAULT_RULES


def default_text() -> str:
    return Path(DEFAULT_RULES).read_text(encoding="utf-8")


def rule_file(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def urinary_made_urgent() -> str:
    """Version 2: difficult or painful urination raised from soon to urgent."""
    text = default_text().replace("version = 1", "version = 2", 1)
    marker = 'id = "RF-URINARY"\nlevel = "soon"'
    assert marker in text
    return text.replace(marker, 'id = "RF-URINARY"\nlevel = "urgent"')


def with_unknown_link_id() -> str:
    return default_text().replace(
        'condition = "erection_over_4h"', 'condition = "erection_over_four_hours"', 1
    )
