"""Times the triage of one intake with the default rule set (budget: 50 µs median).

Run: python bench/triage_bench.py [--runs N] [--candidates] [--json PATH]
Prints the median and 90th percentile of single calls, beside a bare baseline (an empty function
call), so the figure can be read against the timer's own cost on this machine. `--candidates`
also times the expression libraries that were considered, on the same 20 conditions. The
figures are also written as JSON (default bench/results/triage_bench.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS
from service.questionnaire import ItemType, load_questionnaire, validate_answers
from service.triage import evaluate, load_rule_set

TODAY = date(2026, 11, 20)
RESULT_FILE = RESULTS / "triage_bench.json"
TARGET_TYPICAL_US = 50.0


def _intake(**overrides: object) -> dict[str, object]:
    questionnaire = load_questionnaire()
    answers: dict[str, object] = {
        link_id: False
        for link_id, item in questionnaire.items.items()
        if item.type is ItemType.BOOLEAN
    }
    answers.update(
        full_name="Test Patient",
        birth_date="1982-03-14",
        phone="+91 98765 43210",
        main_concern="semen_leakage",
        symptom_duration="1_6_months",
        leakage_when=["arousal", "sleep"],
        consent_privacy=True,
    )
    answers.update(overrides)
    result = validate_answers(questionnaire, answers, TODAY)
    if not result.ok:
        raise SystemExit(f"bench intake is invalid: {result.errors}")
    return dict(result.answers)


def _time(call: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(min(runs, 1000)):
        call()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(runs):
        start = clock()
        call()
        samples.append(clock() - start)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.9)] / 1000


def _report(label: str, call: Callable[[], object], runs: int) -> dict[str, float]:
    median, p90 = _time(call, runs)
    print(f"{label:<48} median {median:8.2f} µs   p90 {p90:8.2f} µs")
    return {"median_us": round(median, 2), "p90_us": round(p90, 2)}


def _candidates(answers: dict[str, object], runs: int) -> dict[str, dict[str, float]]:
    """The libraries considered, each on the same conditions and the same intake."""
    rule_set = load_rule_set()
    conditions = [rule.condition for rule in rule_set.rules]
    variables = dict(rule_set.compiled.neutral)
    variables.update(answers)
    variables["age"] = 44
    variables["leakage_when"] = list(answers.get("leakage_when", ()))
    variables.pop("birth_date", None)

    import cel  # noqa: PLC0415

    timed = {}
    one_by_one = [cel.compile(condition) for condition in conditions]
    timed["cel_20_programs"] = _report(
        "cel (Rust): 20 programs, dict context",
        lambda: [program.execute(variables) for program in one_by_one],
        max(runs // 20, 200),
    )
    combined = cel.compile("[" + ",".join(f"(\n{c}\n)" for c in conditions) + "]")
    timed["cel_one_program"] = _report(
        "cel (Rust): one program, dict context", lambda: combined.execute(variables), runs
    )
    try:
        import rule_engine  # noqa: PLC0415
    except ImportError:
        print("rule-engine: not installed, skipped")
    else:
        rules = [
            rule_engine.Rule(c.replace("&&", " and ").replace("||", " or ")) for c in conditions
        ]
        timed["rule_engine_20_rules"] = _report(
            "rule-engine: 20 rules",
            lambda: [rule.matches(variables) for rule in rules],
            max(runs // 20, 200),
        )
    try:
        import celpy  # noqa: PLC0415
    except ImportError:
        print("cel-python: not installed, skipped")
    else:
        environment = celpy.Environment()
        program = environment.program(environment.compile("[" + ",".join(conditions) + "]"))
        timed["cel_python_one_program"] = _report(
            "cel-python: one program",
            lambda: program.evaluate({k: celpy.json_to_cel(v) for k, v in variables.items()}),
            max(runs // 200, 50),
        )
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--candidates", action="store_true")
    parser.add_argument("--json", type=Path, default=RESULT_FILE)
    arguments = parser.parse_args()
    runs = arguments.runs
    rule_set = load_rule_set()
    typical = _intake(
        blood_in_semen=True,
        blood_in_semen_episodes=2,
        blood_in_semen_since="lt_1_month",
        premature_ejaculation=True,
        trying_to_conceive=True,
        trying_months=14,
    )
    nothing = _intake()
    everything = _intake(
        **{
            link_id: True
            for link_id, item in load_questionnaire().items.items()
            if item.type is ItemType.BOOLEAN
        },
        blood_in_semen_episodes=5,
        blood_in_semen_since="gt_1_month",
        trying_months=30,
    )
    print(f"python {sys.version.split()[0]}, {runs} runs each, one call timed at a time")
    load = os.getloadavg()[0]

    def empty() -> None:
        return None

    baseline = _report("baseline: empty function call", empty, runs)
    typical_figures = _report(
        "evaluate(): typical intake (4 rules fire)",
        lambda: evaluate(rule_set, typical, TODAY),
        runs,
    )
    result = {
        "benchmark": "triage_bench",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "bench/triage_bench.py", *sys.argv[1:]]),
        "load_average_before": round(load, 2),
        "python": sys.version.split()[0],
        "runs": runs,
        "baseline_empty_call": baseline,
        "typical": {
            **typical_figures,
            "rules_fired": 4,
            "target_median_us_at_most": TARGET_TYPICAL_US,
            "met": typical_figures["median_us"] <= TARGET_TYPICAL_US,
        },
        "no_red_flag": _report(
            "evaluate(): no red flag", lambda: evaluate(rule_set, nothing, TODAY), runs
        ),
        "every_answer_yes": _report(
            "evaluate(): every answer yes (19 fire)",
            lambda: evaluate(rule_set, everything, TODAY),
            runs,
        ),
    }
    if arguments.candidates:
        result["candidates"] = _candidates(typical, runs)
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
