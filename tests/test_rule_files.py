"""A broken rule file is refused, by `rules check` and at start-up, naming the rule at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.app import StartupError, create_app
from service.settings import get_settings
from service.triage import DEFAULT_RULES
from tests.commands import Finished, cli
from tests.rule_files import default_text, rule_file, urinary_made_urgent, with_unknown_link_id
from tests.server import live_server


def rules_check(path: Path) -> Finished:
    return cli({"VAR_DIR": str(path.parent / "var")}, "rules", "check", str(path))


BROKEN = {
    "unknown linkId": (with_unknown_link_id, "RF-PRIAPISM", "erection_over_four_hours"),
    "boolean compared to a number": (
        lambda: default_text().replace('condition = "chest_pain"', 'condition = "chest_pain == 1"'),
        "RF-CHEST-PAIN",
        "",
    ),
    "unknown level": (
        lambda: default_text().replace(
            'id = "RF-TORSION"\nlevel = "emergency"', 'id = "RF-TORSION"\nlevel = "critical"'
        ),
        "RF-TORSION",
        "critical",
    ),
    "duplicate id": (
        lambda: default_text().replace('id = "RF-TORSION"', 'id = "RF-PRIAPISM"'),
        "RF-PRIAPISM",
        "",
    ),
    "syntax error": (
        lambda: default_text().replace(
            'condition = "penile_injury"', 'condition = "penile_injury &&"'
        ),
        "RF-PENILE-FRACTURE",
        "",
    ),
}


def test_rules_check_accepts_the_default_and_a_changed_version(tmp_path: Path) -> None:
    for path in (Path(DEFAULT_RULES), rule_file(tmp_path, urinary_made_urgent())):
        result = rules_check(path)
        assert result.returncode == 0, result.stderr
        assert "rule set 'default'" in result.stdout


@pytest.mark.parametrize("fault", BROKEN)
def test_rules_check_refuses_a_broken_file_naming_the_rule(tmp_path: Path, fault: str) -> None:
    make, rule_id, detail = BROKEN[fault]
    result = rules_check(rule_file(tmp_path, make()))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert rule_id in result.stderr
    assert detail in result.stderr
    assert "Traceback" not in result.stderr


def test_rules_check_names_a_missing_file(tmp_path: Path) -> None:
    result = rules_check(tmp_path / "nope.toml")
    assert result.returncode == 1
    assert "nope.toml" in result.stderr


@pytest.mark.parametrize("fault", ["unknown linkId", "duplicate id"])
def test_the_app_refuses_to_start_on_a_broken_rule_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    make, rule_id, _ = BROKEN[fault]
    monkeypatch.setenv("RULE_SET_FILE", str(rule_file(tmp_path, make())))
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        with pytest.raises(StartupError, match=rule_id):
            create_app()
    finally:
        get_settings.cache_clear()


def test_a_server_process_with_a_broken_rule_file_exits_naming_the_rule(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**service_env, "RULE_SET_FILE": str(rule_file(tmp_path, with_unknown_link_id()))}
    with live_server(env, tmp_path / "server.log") as server:
        exit_code = server.process.wait(timeout=30)
    assert exit_code != 0
    log = server.log()
    assert "refusing to start" in log
    assert "RF-PRIAPISM" in log
