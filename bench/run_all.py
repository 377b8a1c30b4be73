"""The benchmark suite in one command: every benchmark, the plot, and the targets in one table.

Run: scripts/bench [--quick] [--databases sqlite,postgresql] [--connections 1,8,32,128]
                   [--sizes 10000,100000,1000000] [--step-timeout SECONDS] [--summary-only]
(scripts/bench installs wrk and matplotlib, then runs this file with the project's Python.)

Each benchmark runs as a subprocess of its own, one after another, with the machine's load
average printed before it (the machine is shared: read the figures with it): submissions on
SQLite and on PostgreSQL (wrk against ours and the bare baseline), queue reads at 10k, 100k and
1M stored intakes on both, triage, the PDF summary, the queue while PDFs render, then the plot.
Each writes its JSON under bench/results/. A benchmark that fails (or outlives
`--step-timeout`) is reported as failed, with its exit status and the last lines of its
output, and the others still run.

Then bench/results/summary.json holds one entry per target (issue #17's submission targets,
issue #9's queue targets, issue #5's PDF targets, issue #2's triage budget): the figure, the
target, whether it is met, the ratio to the baseline where the benchmark has one, the date and
the exact command. The same as a Markdown table, for
the README, is printed and written to bench/results/summary.md.

`--quick` shrinks every benchmark (seconds, sizes, runs) for a smoke run of the whole suite in
about 3 minutes: its figures are not the ones to hold against the targets, and it writes the
same files (replacing a full run's).
`--summary-only` runs nothing and rebuilds the summary from the result files there are.
Exit status 1 when a benchmark failed; a missed target is not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT

VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
SUMMARY = RESULTS / "summary.json"
SUMMARY_MARKDOWN = RESULTS / "summary.md"
PLOT = RESULTS / "latency_vs_concurrency.png"
TAIL_LINES = 30
MB_PER_MIB = 1024 * 1024 / 1_000_000

# Arguments per benchmark. The full run is sized to take about 20 minutes on the 2-core machine
# (seeding 1M intakes on each database is a third of it); --quick takes a few minutes.
FULL = {
    "submissions": ["--seconds", "10", "--warmup", "3"],
    "queue_scale": ["--requests", "300", "--warmup", "30"],
    "triage": ["--runs", "50000"],
    "pdf": ["--runs", "20", "--cached-runs", "200", "--rss-renders", "1000", "--max-tasks", "200"],
    "queue_while_rendering": ["--requests", "400", "--renders", "20"],
}
QUICK = {
    "submissions": ["--seconds", "2", "--warmup", "1"],
    "queue_scale": ["--requests", "50", "--warmup", "5"],
    "triage": ["--runs", "5000"],
    "pdf": ["--runs", "3", "--cached-runs", "20", "--rss-renders", "20", "--max-tasks", "10"],
    "queue_while_rendering": ["--requests", "50", "--renders", "4"],
}
QUICK_SIZES = "1000,10000"
DATABASE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class Step:
    """One benchmark, run as a subprocess, and what came of it."""

    name: str
    script: str
    arguments: list[str]
    result: Path
    started: float = 0.0
    seconds: float = 0.0
    load_average: list[float] = field(default_factory=list)
    exit_code: int | None = None  # None: not run (--summary-only)
    tail: list[str] = field(default_factory=list)

    @property
    def command(self) -> str:
        python = PYTHON.relative_to(ROOT) if PYTHON.is_relative_to(ROOT) else PYTHON
        return shlex.join([str(python), self.script, *self.arguments])

    @property
    def failed(self) -> bool:
        return self.exit_code not in {None, 0}

    def figures(self) -> dict[str, Any] | None:
        """The step's result file, unless it is older than this run of the step."""
        if not self.result.exists():
            return None
        if self.exit_code is not None and self.result.stat().st_mtime < self.started:
            return None
        try:
            loaded: dict[str, Any] = json.loads(self.result.read_text())
        except ValueError:  # cut short mid-write: no figures
            return None
        return loaded


def plan(options: argparse.Namespace) -> list[Step]:
    arguments = QUICK if options.quick else FULL
    sizes = options.sizes or (QUICK_SIZES if options.quick else "10000,100000,1000000")
    steps = [
        Step(
            f"submissions-{database}",
            "bench/submissions.py",
            ["--database", database, "--connections", options.connections]
            + arguments["submissions"],
            RESULTS / "submissions.json",
        )
        for database in options.databases
    ]
    steps += [
        Step(
            f"queue_scale-{database}",
            "bench/queue_scale.py",
            ["--database", database, "--sizes", sizes] + arguments["queue_scale"],
            RESULTS / "queue_scale.json",
        )
        for database in options.databases
    ]
    return [
        *steps,
        Step("triage", "bench/triage_bench.py", arguments["triage"], RESULTS / "triage_bench.json"),
        Step("pdf", "bench/pdf_bench.py", arguments["pdf"], RESULTS / "pdf_bench.json"),
        Step(
            "queue_while_rendering",
            "bench/queue_while_rendering.py",
            arguments["queue_while_rendering"],
            RESULTS / "queue_while_rendering.json",
        ),
        Step("plot", "bench/plot.py", [], PLOT),
    ]


def stop(process: subprocess.Popen[str]) -> None:
    """Interrupt the benchmark's whole process group (its servers, render workers and wrk), as
    Ctrl-C would, so that it cleans up; kill what is left after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_step(step: Step, timeout: float) -> None:
    """Run one benchmark, echoing its output as it comes and keeping the end of it."""
    step.load_average = [round(load, 2) for load in os.getloadavg()]
    print(f"\n== {step.name}   (load average {' '.join(map(str, step.load_average))})")
    print(f"$ {step.command}", flush=True)
    step.started = time.time()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    # A session of its own: a timeout or Ctrl-C stops the benchmark's servers with it.
    process = subprocess.Popen(
        [str(PYTHON), step.script, *step.arguments],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        stop(process)

    timer = threading.Timer(timeout, expire)
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            tail.append(line.rstrip("\n"))
        step.exit_code = process.wait()
    except KeyboardInterrupt:
        stop(process)
        raise
    finally:
        timer.cancel()
    if timed_out.is_set():
        tail.append(f"(stopped by the runner after {timeout:.0f} s)")
    step.seconds = round(time.time() - step.started, 1)
    step.tail = list(tail)
    print(f"== {step.name}: exit status {step.exit_code} after {step.seconds:.0f} s", flush=True)


@dataclass(frozen=True)
class Measured:
    """A figure read from a result file, and how it stands against its target."""

    figure: float
    unit: str
    text: str
    met: bool
    baseline: str = ""
    baseline_ratio: float | None = None
    date: str | None = None  # when the result file holds several runs, each with its own
    command: str | None = None


def entry(
    step: Step | None,
    what: str,
    issue: int,
    target: str,
    read: Callable[[dict[str, Any]], Measured],
) -> dict[str, Any]:
    """One row of the summary: `read` takes the figure out of the step's result file."""
    data = step.figures() if step else None
    ran = step is not None and step.exit_code is not None
    if step is None or (data is None and not ran):
        status = "not run"
    elif step.failed:
        status = "failed"
    else:
        status = "ok" if data is not None else "no result file"
    row: dict[str, Any] = {
        "what": what,
        "issue": issue,
        "target": target,
        "figure": None,
        "unit": None,
        "figure_text": "no figure",
        "met": False,
        "baseline_ratio": None,
        "baseline": None,
        "date": None,
        "command": step.command if step and ran else None,
        "bench": step.name if step else None,
        "status": status,
    }
    if step is not None and step.failed:
        row.update(exit_code=step.exit_code, output_tail=step.tail[-5:])
    if data is None:
        return row
    row["date"] = str(data.get("date", ""))[:10] or None
    row["command"] = row["command"] or data.get("command")
    try:
        measured = read(data)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError) as error:
        row["figure_text"] = f"no figure ({type(error).__name__}: {error})"
        if status == "ok":
            row["status"] = "result file without the figure"
        return row
    row.update(
        figure=measured.figure,
        unit=measured.unit,
        figure_text=measured.text,
        met=measured.met and status == "ok",
        baseline_ratio=measured.baseline_ratio,
        baseline=measured.baseline or None,
    )
    if measured.date:
        row["date"] = measured.date[:10]
    if measured.command and not ran:
        row["command"] = measured.command
    return row


def submission_rows(step: Step | None, database: str) -> list[dict[str, Any]]:
    """Issue #17's targets: ours at 32 connections, beside the bare baselines of the same run."""
    label = DATABASE_LABELS[database]
    rate, p99 = {"sqlite": (1500, 50), "postgresql": (1000, 80)}[database]

    def at(data: dict[str, Any], target: str = "ours") -> dict[str, Any]:
        runs: dict[str, Any] = data["databases"][database][target]["connections"]["32"]
        return runs

    def run_of(data: dict[str, Any]) -> dict[str, Any]:
        """A database's own date and command (the file keeps the other database's last run)."""
        result = data["databases"][database]
        return {"date": result.get("date"), "command": result.get("command")}

    def beside(data: dict[str, Any], key: str, text: Callable[[float], str]) -> str:
        """The same figure of each bare baseline measured in the same run."""
        result = data["databases"][database]
        names = {
            "durable": "durable bare baseline",
            "baseline": "aiosqlite/asyncpg baseline",
            "lean": "lean floor (domain work only, raw ASGI)",
        }
        return "; ".join(
            f"{name} {text(at(data, target)[key])}"
            for target, name in names.items()
            if target in result
        )

    def throughput(data: dict[str, Any]) -> Measured:
        ours = at(data)["requests_per_s"]
        return Measured(
            ours,
            "intakes/s",
            f"{ours:,.0f} intakes/s",
            ours >= rate,
            beside(data, "requests_per_s", lambda bare: f"{bare:,.0f}/s ({ours / bare:.2f}x)"),
        )

    def latency(data: dict[str, Any]) -> Measured:
        ours = at(data)["p99_ms"]
        return Measured(
            ours,
            "ms",
            f"p99 {ours:,.1f} ms",
            ours <= p99,
            beside(data, "p99_ms", lambda bare: f"{bare:,.1f} ms"),
        )

    def ratio(data: dict[str, Any]) -> Measured:
        ours, bare = at(data)["requests_per_s"], at(data, "durable")["requests_per_s"]
        figure = ours / bare
        return Measured(
            round(figure, 3),
            "x",
            f"{figure:.2f}x",
            figure >= 1.0,
            f"durable bare baseline {bare:,.0f}/s",
            round(figure, 3),
        )

    def cpu(data: dict[str, Any]) -> Measured:
        figures = at(data)
        ours = figures["server_cpu_ms_per_request"]
        text = f"{ours:.2f} ms (render workers {figures['children_cpu_ms_per_request']:.2f} more)"
        return Measured(
            ours,
            "ms",
            text,
            ours <= 0.6,
            beside(data, "server_cpu_ms_per_request", lambda bare: f"{bare:.2f} ms"),
        )

    def memory(data: dict[str, Any]) -> Measured:
        figures = at(data)
        mib = figures["service_pss_mib_max"]
        megabytes = mib * MB_PER_MIB
        text = (
            f"{megabytes:,.0f} MB PSS ({mib:,.0f} MiB; RSS: server {figures['rss_mib_max']:,.0f}"
            f" + render workers {figures['children_rss_mib_max']:,.0f} MiB)"
        )
        baseline = beside(data, "service_pss_mib_max", lambda bare: f"{bare * MB_PER_MIB:,.0f} MB")
        return Measured(round(megabytes, 1), "MB", text, megabytes <= 300, baseline)

    targets = [
        (f"Submissions, {label}, 32 connections: throughput", f"at least {rate:,}/s", throughput),
        (f"Submissions, {label}, 32 connections: latency", f"p99 at most {p99} ms", latency),
    ]
    if database == "sqlite":
        targets.append(
            (
                f"Submissions, {label}, 32 connections: ours / durable bare baseline",
                "at least 1.0x",
                ratio,
            )
        )
    targets += [
        (f"Server CPU per intake, {label}, 32 connections", "at most 0.6 ms", cpu),
        (
            f"Whole service memory (PSS), {label}, 32 connections",
            "at most 300 MB",
            memory,
        ),
    ]

    def dated(read: Callable[[dict[str, Any]], Measured]) -> Callable[[dict[str, Any]], Measured]:
        return lambda data: replace(read(data), **run_of(data))

    return [entry(step, what, 17, target, dated(read)) for what, target, read in targets]


def queue_rows(step: Step | None, database: str) -> list[dict[str, Any]]:
    label = DATABASE_LABELS[database]

    def ends(data: dict[str, Any]) -> tuple[int, dict[str, Any], int, dict[str, Any]]:
        runs = data["databases"][database]["sizes"]
        sizes = sorted(runs, key=int)
        return int(sizes[0]), runs[sizes[0]], int(sizes[-1]), runs[sizes[-1]]

    def p50(data: dict[str, Any]) -> Measured:
        _, _, size, largest = ends(data)
        figure = largest["p50_ms"]
        return Measured(figure, "ms", f"{figure:.2f} ms at {size:,}", figure <= 10)

    def ratio(data: dict[str, Any]) -> Measured:
        small_size, smallest, size, largest = ends(data)
        figure = largest["p50_ms"] / smallest["p50_ms"]
        text = (
            f"{figure:.2f} ({largest['p50_ms']:.2f} / {smallest['p50_ms']:.2f} ms, "
            f"{size:,} / {small_size:,})"
        )
        return Measured(round(figure, 2), "x", text, figure <= 1.5)

    def dated(read: Callable[[dict[str, Any]], Measured]) -> Callable[[dict[str, Any]], Measured]:
        """The database's own run: the file's date and command are those of its last run,
        which may have measured the other database only."""

        def read_dated(data: dict[str, Any]) -> Measured:
            run = data["databases"][database]
            command = run.get("command") or "(not recorded for this database: rerun it)"
            return replace(read(data), date=run.get("date"), command=command)

        return read_dated

    return [
        entry(
            step, f"Queue read, {label}: p50 at 1M stored intakes", 9, "at most 10 ms", dated(p50)
        ),
        entry(step, f"Queue read, {label}: p50 at 1M / p50 at 10k", 9, "at most 1.5", dated(ratio)),
    ]


def pdf_rows(pdf: Step | None, busy: Step | None) -> list[dict[str, Any]]:
    def warm(data: dict[str, Any]) -> Measured:
        render, bare = data["warm_render_ms"], data["baseline_one_line_ms"]["median"]
        figure = render["median"]
        baseline = f"{render['ratio_to_baseline']:.1f}x one line of HTML ({bare:.1f} ms)"
        return Measured(
            figure,
            "ms",
            f"{figure:.1f} ms median",
            figure <= 100,
            baseline,
            render["ratio_to_baseline"],
        )

    def cached(data: dict[str, Any]) -> Measured:
        figure = data["cached_fetch_ms"]["median"]
        return Measured(figure, "ms", f"{figure:.2f} ms median", figure <= 5)

    def flat(data: dict[str, Any]) -> Measured:
        rss = data["worker_rss_mib"]
        largest = max([*rss["largest_per_100_renders"], *rss["last"]])
        text = (
            f"{max(rss['first']):.0f} -> at most {largest:.0f} MiB over {rss['renders']:,} "
            f"renders ({rss['growth']:.2f}x; recycled every {rss['recycled_every']})"
        )
        return Measured(rss["growth"], "x", text, rss["growth"] <= rss["flat_at_most"])

    def under_load(data: dict[str, Any]) -> Measured:
        idle, loaded = data["idle"], data["while_rendering"]
        figure = data["p99_ratio"]
        text = (
            f"{figure:.2f}x: p99 {loaded['p99_ms']:.1f} ms while {loaded['renders']} render, "
            f"{idle['p99_ms']:.1f} ms idle"
        )
        baseline = f"idle p99 {idle['p99_ms']:.1f} ms"
        return Measured(figure, "x", text, figure <= 2.0, baseline, figure)

    return [
        entry(pdf, "PDF summary: warm render (typical, 2 pages)", 5, "at most 100 ms median", warm),
        entry(pdf, "PDF summary: cached fetch", 5, "at most 5 ms median", cached),
        entry(busy, "Queue p99 while 20 PDFs render / idle p99", 5, "at most 2x", under_load),
        entry(pdf, "Render worker RSS over 1,000 renders", 5, "flat (at most 1.10x)", flat),
    ]


def triage_rows(step: Step | None) -> list[dict[str, Any]]:
    def typical(data: dict[str, Any]) -> Measured:
        figure, bare = data["typical"]["median_us"], data["baseline_empty_call"]["median_us"]
        return Measured(
            figure, "µs", f"{figure:.1f} µs median", figure <= 50, f"empty call {bare:.2f} µs"
        )

    return [entry(step, "Triage of a typical intake (4 rules fire)", 2, "at most 50 µs", typical)]


def summary_rows(steps: dict[str, Step], databases: list[str]) -> list[dict[str, Any]]:
    rows = []
    for database in databases:
        rows += submission_rows(steps.get(f"submissions-{database}"), database)
    for database in databases:
        rows += queue_rows(steps.get(f"queue_scale-{database}"), database)
    rows += pdf_rows(steps.get("pdf"), steps.get("queue_while_rendering"))
    rows += triage_rows(steps.get("triage"))
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| what | figure | target | met | baseline | date | command |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row["status"] == "failed":
            met = f"**no**: the benchmark failed (exit status {row['exit_code']})"
        elif row["status"] != "ok":
            met = f"**no**: {row['status']}"
        else:
            met = "yes" if row["met"] else "**no**"
        command = f"`{row['command']}`" if row["command"] else ""
        cells = [
            row["what"],
            row["figure_text"],
            row["target"],
            met,
            row["baseline"] or "",
            row["date"] or "",
            command,
        ]
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    info = Path("/proc/cpuinfo").read_text()
    models = [line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line]
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": models[0] if models else "unknown",
        "python": sys.version.split()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: every bench shrunk")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--connections", default="1,8,32,128")
    parser.add_argument("--sizes", help="stored intakes for the queue (10000,100000,1000000)")
    parser.add_argument("--step-timeout", type=float, default=3600)
    parser.add_argument("--summary-only", action="store_true")
    options = parser.parse_args()
    options.databases = options.databases.split(",")
    unknown = set(options.databases) - set(DATABASE_LABELS)
    if unknown:
        parser.error(f"unknown database {', '.join(sorted(unknown))}")

    started = datetime.now(UTC)
    steps = plan(options)
    if not options.summary_only:
        for step in steps:
            run_step(step, options.step_timeout)

    rows = summary_rows({step.name: step for step in steps}, options.databases)
    ran = [step for step in steps if step.exit_code is not None]
    summary = {
        "date": started.isoformat(timespec="seconds"),
        "command": shlex.join(["scripts/bench", *sys.argv[1:]]),
        "quick": options.quick,
        "machine": machine(),
        "minutes": round((datetime.now(UTC) - started).total_seconds() / 60, 1),
        "steps": [
            {
                "name": step.name,
                "command": step.command,
                "exit_code": step.exit_code,
                "seconds": step.seconds,
                "load_average_before": step.load_average,
                **({"output_tail": step.tail} if step.failed else {}),
            }
            for step in ran
        ],
        "plot": str(PLOT.relative_to(ROOT)) if PLOT.exists() else None,
        "targets": rows,
    }
    table = markdown(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    SUMMARY_MARKDOWN.write_text(table + "\n")

    print("\n== steps")
    for step in ran:
        loads = " ".join(map(str, step.load_average))
        print(f"{step.name:<24} exit {step.exit_code}  {step.seconds:7.0f} s  load {loads}")
    for step in ran:
        if step.failed:
            print(f"\n== {step.name} failed (exit status {step.exit_code}); its last lines:")
            print("\n".join(step.tail[-10:]))
    if options.quick:
        print("\nA quick smoke run: the benchmarks were shrunk, so hold no figure to a target.")
    met = sum(row["met"] for row in rows)
    print(f"\n{met} of {len(rows)} targets met; {SUMMARY.relative_to(ROOT)}:\n")
    print(table)
    return 1 if any(step.failed for step in steps) else 0


if __name__ == "__main__":
    sys.exit(main())
