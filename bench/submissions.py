"""Submission load: wrk posts varied valid intakes to our server and to the bare baselines.

Run: python bench/submissions.py [--database sqlite|postgresql|both] [--connections 1,8,32,128]
                                 [--seconds 10] [--warmup 3] [--targets ours,baseline,...]

For each database, and for each target, on a fresh database:
- `ours`: the service as it runs in production, `python -m service serve` (its default worker
  count, its uvicorn protocol and limits; bench.common.service_command);
- `baseline`: bench.baseline_app:create_app, one handler that inserts the JSON with async
  SQLAlchemy on the service's drivers, one commit per request;
- `durable` (SQLite only): bench.baseline_app:create_durable_app, the same insert with sync
  SQLAlchemy in a thread, `synchronous=FULL`, one commit per request;
- `lean` (SQLite only): bench.baseline_app:create_lean_app, the floor: the service's own
  domain work (digest, validation, triage, advice) in a plain ASGI callable, one row per
  intake by a group-committing sqlite3 thread, nothing else: what this machine allows for it;
the baselines under one plain uvicorn command line (bench.common.server_command). ~500 varied
valid bodies (both languages, Malayalam names and free text, the red-flag cases of
tests/domain/cases.toml), each first posted once to our server, which must answer 201 to every
one; then per connection count a warmup run and a measured run of
`wrk -t min(2,c) -c c -d SECONDS --latency -s bench/wrk/submit.lua`. During each measured run:
the CPU time the server process used (and its child processes apart), over the requests wrk
sent; the largest RSS of the server (and its children apart) and the largest PSS of them all
together (the whole service; pages shared between them count once), sampled every 0.5 s. After
a target's runs the server is stopped and its stored rows are counted: every intake wrk saw
acknowledged must be stored; a few more may be (requests still in flight when wrk stopped,
which it never saw answered).

Writes bench/results/submissions.json (a database run alone replaces only that database's
figures) and prints a table. Exit status 1 on any wrk error or an acknowledged intake not stored.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    ROOT,
    Server,
    Workspace,
    cpu_seconds,
    descendants,
    pss_mib,
    rss_mib,
    serve,
    workspace,
)
from tests.domain.support import CASES
from tests.patients import intake_body

RESULT_FILE = RESULTS / "submissions.json"
LUA = ROOT / "bench" / "wrk" / "submit.lua"
BODIES = 500
SAMPLE_SECONDS = 0.5
WRK_TIMEOUT = "10s"  # wrk's default 2 s would count slow answers as errors, hiding their latency
# Each target: its app factory (None: `python -m service serve`) and the table it stores in.
TARGETS = {
    "ours": (None, "intake"),
    "baseline": ("bench.baseline_app:create_app", "baseline_intake"),
    "durable": ("bench.baseline_app:create_durable_app", "baseline_intake"),
    "lean": ("bench.baseline_app:create_lean_app", "baseline_intake"),
}
BASELINES = ("baseline", "durable", "lean")
SQLITE_ONLY = {"durable", "lean"}

NAMES = {
    "en": ["Arun Kumar", "Rahul Menon", "Joseph Thomas", "Mohammed Ashraf", "Suresh Nair",
           "Vineeth P.", "Abdul Rasheed", "Anil George", "Sreejith K. R.", "Faisal Ali"],
    "ml": ["അരുൺ കുമാർ", "രാഹുൽ മേനോൻ", "ജോസഫ് തോമസ്", "മുഹമ്മദ് അഷ്റഫ്", "സുരേഷ് നായർ",
           "വിനീത് പി.", "അബ്ദുൽ റഷീദ്", "അനിൽ ജോർജ്"],
}  # fmt: skip
DETAILS = {
    "en": [
        "It started after my marriage and is worse when I am stressed at work.",
        "I have seen two doctors before; the tablets helped for a while only.",
        "My wife and I have been worried about this for some time.\nPlease call after 5 pm.",
    ],
    "ml": [
        "കഴിഞ്ഞ കുറച്ചു മാസമായി ഈ ബുദ്ധിമുട്ട് ഉണ്ട്. ജോലിയിലെ സമ്മർദ്ദം കൂടുതലാണ്.",
        "മുമ്പ് രണ്ടു ഡോക്ടർമാരെ കണ്ടിരുന്നു; മരുന്ന് കുറച്ചു കാലം മാത്രം ഫലിച്ചു.",
        "ഭാര്യയും ഞാനും ഇതിനെക്കുറിച്ച് വിഷമത്തിലാണ്.\nവൈകുന്നേരം 5 മണിക്ക് ശേഷം വിളിക്കുക.",
    ],
}
CONCERNS = ["erectile_difficulty", "premature_ejaculation", "fertility", "low_desire", "other"]
DURATIONS = ["lt_1_week", "1_4_weeks", "1_6_months", "gt_6_months"]
LEAKAGE_WHEN = ["arousal", "after_ejaculation", "sleep", "urination_or_straining", "random"]


def _json_ready(answers: dict[str, Any]) -> dict[str, Any]:
    return {key: v.isoformat() if isinstance(v, date) else v for key, v in answers.items()}


def varied_bodies(count: int = BODIES, seed: int = 9) -> list[dict[str, object]]:
    """`count` valid submissions: the cases of cases.toml, varied patients, both languages."""
    chooser = random.Random(seed)
    cases = [case.get("answers", {}) for case in CASES["cases"]]
    made = []
    for number in range(count):
        language = "ml" if number % 3 == 0 else "en"
        changes: dict[str, Any] = {
            "full_name": f"{chooser.choice(NAMES[language])} {number}",
            "phone": f"9{chooser.choice('4689')}{chooser.randrange(10**7, 10**8)}",
            "birth_date": date(1950, 1, 1) + timedelta(days=chooser.randrange(58 * 365)),
            "symptom_duration": chooser.choice(DURATIONS),
        }
        if chooser.random() < 0.6:
            changes["concern_details"] = chooser.choice(DETAILS[language]) * chooser.randint(1, 4)
        if chooser.random() < 0.3:
            changes["email"] = f"patient{number}@example.org"
        if chooser.random() < 0.5:
            changes["consent_contact"] = chooser.random() < 0.7
        if chooser.random() < 0.15:
            changes.update(
                main_concern="semen_leakage",
                leakage_when=chooser.sample(LEAKAGE_WHEN, chooser.randint(1, 3)),
                leakage_frequency=chooser.choice(["rarely", "weekly", "daily"]),
            )
        else:
            changes["main_concern"] = chooser.choice(CONCERNS)
        # Two in five have no red flag; the rest take one case of cases.toml (its answers win).
        if chooser.random() < 0.6:
            changes.update(chooser.choice(cases))
        made.append(intake_body(language, **_json_ready(changes)))
    return made


def check_accepted(server: Server, bodies: list[dict[str, object]]) -> None:
    """Post every body once; our server must answer 201 to each (else the load is not valid)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for number, body in enumerate(bodies):
            response = client.post("/api/v1/intakes", json=body)
            if response.status_code != httpx.codes.CREATED:
                fields = [error.get("field") for error in response.json().get("errors", [])]
                raise SystemExit(f"body {number}: {response.status_code}, fields {fields}")


def stored_rows(space: Workspace, database: str, table: str) -> int:
    count = f"SELECT count(*) FROM {table}"  # noqa: S608 (table: one of TARGETS' own names)
    if database == "sqlite":
        path = space.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            return int(connection.execute(count).fetchone()[0])
    done = subprocess.run(
        ["psql", space.database_url, "-tAc", count],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.strip())


def server_log_events(path: Path) -> dict[str, int]:
    """How often each event the server logged (warnings and worse; never health data)."""
    events: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("INFO:"):  # uvicorn's own start and stop lines
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"event": line.strip()[:120]}
        if isinstance(entry, dict):
            # Client ports and pids differ on every line; the error's class and place do not.
            event = re.sub(r"127\.0\.0\.1:\d+|\[\d+\]", "*", str(entry.get("event", "?")))
            detail = " ".join(str(entry[key]) for key in ("error", "where") if key in entry)
            events[f"{entry.get('level', '?')}: {event} {detail}".strip()] += 1
    return dict(events.most_common(20))


@contextmanager
def memory_sampled(pid: int) -> Iterator[dict[str, float]]:
    """Meanwhile, the largest RSS (MiB) of the server process and of its children together, and
    the largest PSS of them all (the whole service, shared pages counted once)."""
    peak = {"server": 0.0, "children": 0.0, "service_pss": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while True:
            children = descendants(pid)
            peak["server"] = max(peak["server"], rss_mib(pid))
            peak["children"] = max(peak["children"], sum(rss_mib(child) for child in children))
            service = pss_mib(pid) + sum(pss_mib(child) for child in children)
            peak["service_pss"] = max(peak["service_pss"], service)
            if stop.wait(SAMPLE_SECONDS):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


@contextmanager
def cpu_measured(pid: int) -> Iterator[dict[str, float]]:
    """The CPU seconds the server process, and its children apart, use meanwhile. A child that
    ends before the end is not counted (the render workers live as long as the server)."""
    server = cpu_seconds(pid)
    children = {child: cpu_seconds(child) for child in descendants(pid)}
    used = {"server": 0.0, "children": 0.0}
    yield used
    used["server"] = cpu_seconds(pid) - server
    used["children"] = sum(
        cpu_seconds(child) - children.get(child, 0.0) for child in descendants(pid)
    )


def wrk_command(url: str, connections: int, seconds: int, bodies: Path) -> list[str]:
    return [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT}",
        "--latency",
        f"-s{LUA}",
        url,
        "--",
        str(bodies),
    ]


def wrk(url: str, connections: int, seconds: int, bodies: Path) -> dict[str, Any]:
    """One wrk run; its Lua `done` prints the figures as the last JSON line."""
    done = subprocess.run(
        wrk_command(url, connections, seconds, bodies),
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    line = [text for text in done.stdout.splitlines() if text.startswith("{")][-1]
    figures: dict[str, Any] = json.loads(line)
    figures["acknowledged"] = figures["requests"] - figures["errors"]["status"]
    return figures


def measure_target(
    database: str,
    target: str,
    connections: list[int],
    seconds: int,
    warmup: int,
    bodies: list[dict[str, object]],
) -> dict[str, Any]:
    factory, table = TARGETS[target]
    runs: dict[str, dict[str, Any]] = {}
    acknowledged = in_flight_bound = 0
    with workspace(database) as space:
        bodies_file = space.folder / "bodies.jsonl"
        bodies_file.write_text(
            "".join(json.dumps(body, ensure_ascii=False) + "\n" for body in bodies),
            encoding="utf-8",
        )
        with serve(space, factory) as server:
            if target == "ours":
                check_accepted(server, bodies)
            before = stored_rows(space, database, table)
            for count in connections:
                if warmup:
                    warm = wrk(server.base_url, count, warmup, bodies_file)
                    acknowledged += warm["acknowledged"]
                    in_flight_bound += count
                load = os.getloadavg()[0]
                with memory_sampled(server.pid) as peak, cpu_measured(server.pid) as cpu:
                    figures = wrk(server.base_url, count, seconds, bodies_file)
                acknowledged += figures["acknowledged"]
                in_flight_bound += count
                latency = figures["latency_ms"]
                runs[str(count)] = {
                    "requests_per_s": round(figures["requests"] / figures["duration_s"], 1),
                    "p50_ms": latency["p50"],
                    "p90_ms": latency["p90"],
                    "p99_ms": latency["p99"],
                    "max_ms": latency["max"],
                    "mean_ms": latency["mean"],
                    "requests": figures["requests"],
                    "errors": sum(figures["errors"].values()),
                    "error_kinds": figures["errors"],
                    "rss_mib_max": round(peak["server"], 1),
                    "children_rss_mib_max": round(peak["children"], 1),
                    "service_pss_mib_max": round(peak["service_pss"], 1),
                    # Server CPU seconds over the requests wrk sent (some are still in flight
                    # at the end, so a request's share is slightly under-counted: at most c).
                    "server_cpu_ms_per_request": round(
                        1000 * cpu["server"] / max(1, figures["requests"]), 3
                    ),
                    "children_cpu_ms_per_request": round(
                        1000 * cpu["children"] / max(1, figures["requests"]), 3
                    ),
                    # Other work on the machine skews the figures; this says how much there was.
                    "load_average_before": round(load, 2),
                }
                print(f"  {database} {target} c={count}: {_row(runs[str(count)])}", flush=True)
        # The server has stopped, so every request it had started is committed or abandoned.
        stored = stored_rows(space, database, table) - before
        log_events = server_log_events(server.log_path)
    return {
        "factory": factory or "service.app:create_app",
        "server_command": server.command,
        "connections": runs,
        "storage": {
            "acknowledged": acknowledged,
            "stored": stored,
            "lost": max(0, acknowledged - stored),
            # Committed but never seen answered: in flight when wrk stopped (at most c a run).
            "stored_unacknowledged": stored - acknowledged,
            "in_flight_bound": in_flight_bound,
        },
        "server_log_events": log_events,
    }


def run(
    database: str = "both",
    connections: list[int] | None = None,
    seconds: int = 10,
    warmup: int = 3,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """Per database (`sqlite`, `postgresql` or `both`): per target, per connection count."""
    connections = connections or [1, 8, 32, 128]
    databases = ["sqlite", "postgresql"] if database == "both" else [database]
    bodies = varied_bodies()
    results: dict[str, Any] = {}
    for name in databases:
        measured = {
            target: measure_target(name, target, connections, seconds, warmup, bodies)
            for target in targets or TARGETS
            if name == "sqlite" or target not in SQLITE_ONLY
        }
        results[name] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), **measured}
        if "ours" not in measured:
            continue
        ours = measured["ours"]["connections"]
        for baseline in BASELINES:
            if baseline in measured:
                theirs = measured[baseline]["connections"]
                results[name][f"ratio_ours_to_{baseline}"] = {
                    count: round(ours[count]["requests_per_s"] / theirs[count]["requests_per_s"], 3)
                    for count in ours
                }
    return results


def machine() -> dict[str, object]:
    info = Path("/proc/cpuinfo").read_text()
    models = [line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line]
    version = subprocess.run(["wrk", "-v"], check=False, capture_output=True, text=True)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": models[0] if models else "unknown",
        "python": sys.version.split()[0],
        "wrk": version.stdout.splitlines()[0] if version.stdout else "unknown",
    }


def _row(figures: dict[str, Any]) -> str:
    if "server_cpu_ms_per_request" not in figures:  # a run from before these were measured
        figures = {
            "server_cpu_ms_per_request": 0.0,
            "children_cpu_ms_per_request": 0.0,
            "service_pss_mib_max": 0.0,
            **figures,
        }
    return (
        f"{figures['requests_per_s']:8.1f}/s  p50 {figures['p50_ms']:7.2f}  "
        f"p90 {figures['p90_ms']:7.2f}  p99 {figures['p99_ms']:7.2f}  "
        f"max {figures['max_ms']:8.2f} ms  errors {figures['errors']}  "
        f"cpu {figures['server_cpu_ms_per_request']:.3f} ms/req "
        f"(+{figures['children_cpu_ms_per_request']:.3f})  "
        f"rss {figures['rss_mib_max']:.0f} MiB (+{figures['children_rss_mib_max']:.0f})  "
        f"pss {figures['service_pss_mib_max']:.0f} MiB"
    )


def table(databases: dict[str, Any]) -> str:
    lines = []
    for name, result in databases.items():
        for target in TARGETS:
            if target not in result:
                continue
            for count, figures in result[target]["connections"].items():
                lines.append(f"{name:10} {target:8} c={count:>3}  {_row(figures)}")
            storage = result[target]["storage"]
            lines.append(
                f"{name:10} {target:8} acknowledged {storage['acknowledged']}, "
                f"stored {storage['stored']}, lost {storage['lost']}"
            )
        for baseline in BASELINES:
            if ratios := result.get(f"ratio_ours_to_{baseline}"):
                each = "  ".join(f"c={c}: {r:.2f}x" for c, r in ratios.items())
                lines.append(f"{name:10} ours/{baseline} throughput  {each}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--connections", default="1,8,32,128")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--targets", default=",".join(TARGETS))
    args = parser.parse_args()
    connections = [int(count) for count in args.connections.split(",")]
    targets = [target for target in args.targets.split(",") if target]
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    measured = run(args.database, connections, args.seconds, args.warmup, targets)
    previous = json.loads(RESULT_FILE.read_text()) if RESULT_FILE.exists() else {}
    command = " ".join(["python", "bench/submissions.py", *sys.argv[1:]])
    results: dict[str, Any] = {
        "benchmark": "submissions",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "wrk_command": (
            f"wrk -t<min(2,c)> -c<c> -d{args.seconds}s --timeout={WRK_TIMEOUT} --latency "
            f"-s{LUA.relative_to(ROOT)} URL -- BODIES (after a {args.warmup} s warmup run)"
        ),
        "machine": machine(),
        "databases": {**previous.get("databases", {}), **measured},
    }
    for result in measured.values():
        result["command"] = command
    RESULTS.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results["databases"]))
    failed = any(
        figures["errors"] or result[target]["storage"]["lost"]
        for result in measured.values()
        for target in TARGETS
        if target in result
        for figures in result[target]["connections"].values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
