"""Times the doctor's PDF summary: a warm render (target 100 ms median), a cached fetch (5 ms),
the event loop's lag while 20 PDFs render, and worker memory over 1,000 renders.

Run: python bench/pdf_bench.py [--runs N] [--cached-runs N] [--rss-renders N] [--workers N]
                               [--max-tasks N] [--json PATH]
Each figure is printed beside a bare baseline from the same run (WeasyPrint rendering one line
of HTML; an idle event loop), so it can be read against this machine's own speed. The workers
default to SUMMARY_WORKERS (one core fewer than the machine has), as the server runs them.
The figures, their targets and baselines are also written as JSON (default
bench/results/pdf_bench.json). Worker RSS counts as flat when the largest worker never grows
past 1.10x its size at the start.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weasyprint
from pypdf import PdfReader

from bench.common import RESULTS, rss_mib
from service.clinic import Clinic
from service.codes import Status
from service.intake import answers_to_json
from service.intake.stored import red_flags_of
from service.models import Intake
from service.questionnaire import validate_answers
from service.settings import get_settings
from service.summary import Summary, SummaryRenderer, render_summary_pdf, summary_of, warm_up
from service.triage import evaluate, is_emergency_answer
from tests.patients import patient_json
from tests.summary.examples import TYPICAL

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
RESULT_FILE = RESULTS / "pdf_bench.json"
TARGET_WARM_MS = 100.0
TARGET_CACHED_MS = 5.0
FLAT = 1.10


def typical_summary(clinic: Clinic, number: int = 1) -> Summary:
    """The typical two-page summary, from an intake built as `submit_intake` stores one."""
    today = clinic.today(NOW)
    result = validate_answers(
        clinic.questionnaire,
        patient_json(**TYPICAL),
        today,
        language="en",
        keep_when_disabled=partial(is_emergency_answer, clinic.rule_set),
    )
    if not result.ok:
        raise SystemExit(f"bench intake is invalid: {result.errors}")
    triage = evaluate(clinic.rule_set, result.answers, today)
    intake = Intake(
        id=UUID(int=number),
        reference="K7M-4QX",
        language="en",
        questionnaire_version=clinic.questionnaire.version,
        answers=answers_to_json(result.answers),
        consent_version=clinic.consent.version,
        submitted_at=NOW,
        rule_set=triage.rule_set,
        rule_set_version=triage.rule_set_version,
        red_flags=[flag.as_red_flag() for flag in red_flags_of(triage, NOW)],
        status=Status.NEW.value,
        status_history=[],
        revision=1,
    )
    intake.set_priorities(triage.level, None)
    return summary_of(intake, clinic)


def median_ms(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of `runs` calls, in ms, after one warm-up call.

    CPU time is this process's own: on a shared machine it shows the work, wall time the wait.
    """
    call()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


async def amedian_ms(call: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()  # type: ignore[misc]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


async def loop_lag_p99(seconds: float) -> float:
    """The 99th percentile of how late a 5 ms sleep wakes up, in ms."""
    lags = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append((time.perf_counter() - start - 0.005) * 1000)
    lags.sort()
    return lags[int(len(lags) * 0.99)]


async def bench_pool(
    args: argparse.Namespace, clinic: Clinic, summary: Summary
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="pdf-bench-") as folder:
        async with SummaryRenderer(
            Path(folder), workers=args.workers, max_tasks_per_child=args.max_tasks
        ) as renderer:
            await renderer.start()
            await renderer.render(summary)
            render = await amedian_ms(lambda: renderer.render(summary), args.runs)
            print(f"warm render in a worker (incl. IPC)  median {render:7.1f} ms")

            await renderer.summary_pdf(summary)
            cached = await amedian_ms(lambda: renderer.summary_pdf(summary), args.cached_runs)
            print(f"cached fetch (file read + ETag)      median {cached:7.2f} ms   target   5")

            idle = await loop_lag_p99(2.0)
            others = [typical_summary(clinic, number) for number in range(100, 120)]
            lag_task = asyncio.create_task(loop_lag_p99(3.0))
            start = time.perf_counter()
            await asyncio.gather(*(renderer.render(other) for other in others))
            twenty = time.perf_counter() - start
            busy = await lag_task
            print(
                f"event loop lag p99: idle {idle:5.2f} ms, while 20 PDFs render {busy:5.2f} ms "
                f"(20 renders took {twenty:4.1f} s on {args.workers} workers)"
            )

            first = {pid: rss_mib(pid) for pid in renderer.worker_pids()}
            samples = []
            done = 0
            while done < args.rss_renders:
                batch = min(args.workers, args.rss_renders - done)
                await asyncio.gather(*(renderer.render(summary) for _ in range(batch)))
                done += batch
                if done % 100 < batch:
                    sizes = [rss_mib(pid) for pid in renderer.worker_pids()]
                    samples.append(max(sizes, default=0.0))
            last = {pid: rss_mib(pid) for pid in renderer.worker_pids()}
            print(
                f"worker RSS over {args.rss_renders} renders (recycled every "
                f"{args.max_tasks}): first "
                + ", ".join(f"{size:.0f}" for size in first.values())
                + " MiB; last "
                + ", ".join(f"{size:.0f}" for size in last.values())
                + " MiB; largest worker per 100 renders: "
                + " ".join(f"{size:.0f}" for size in samples)
            )
    start_size = max(first.values(), default=0.0)
    largest = max([*samples, *last.values()], default=0.0)
    growth = largest / start_size if start_size else 0.0
    return {
        "worker_render_ms": {"median": round(render, 1), "runs": args.runs},
        "cached_fetch_ms": {
            "median": round(cached, 3),
            "runs": args.cached_runs,
            "target_at_most": TARGET_CACHED_MS,
            "met": cached <= TARGET_CACHED_MS,
        },
        "event_loop_lag_p99_ms": {
            "idle_baseline": round(idle, 2),
            "while_20_render": round(busy, 2),
            "render_seconds": round(twenty, 1),
        },
        "worker_rss_mib": {
            "renders": args.rss_renders,
            "recycled_every": args.max_tasks,
            "first": [round(size, 1) for size in first.values()],
            "last": [round(size, 1) for size in last.values()],
            "largest_per_100_renders": [round(size, 1) for size in samples],
            "growth": round(growth, 3),
            "flat_at_most": FLAT,
            "met": growth <= FLAT,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cached-runs", type=int, default=200)
    parser.add_argument("--rss-renders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=get_settings().summary_workers)
    parser.add_argument("--max-tasks", type=int, default=200)
    parser.add_argument("--json", type=Path, default=RESULT_FILE)
    args = parser.parse_args()
    load = os.getloadavg()[0]

    clinic = Clinic.load(get_settings())
    summary = typical_summary(clinic)
    pdf = render_summary_pdf(summary)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"typical summary: {pages} pages, {len(pdf) / 1024:.0f} KiB")
    warm_up()  # as a render worker starts: fonts loaded, then frozen out of the collector's way

    bare, bare_cpu = median_ms(
        lambda: weasyprint.HTML(string="<p>Hello</p>").write_pdf(), args.runs
    )
    print(f"baseline: one line of HTML           median {bare:7.1f} ms   (CPU {bare_cpu:.1f})")
    warm, warm_cpu = median_ms(lambda: render_summary_pdf(summary), args.runs)
    # In a block of its own: taken in turns, the two measured unlike either alone (the first of
    # each pair slower), so they are not interleaved.
    full_ua, full_ua_cpu = median_ms(
        lambda: render_summary_pdf(summary, user_agent=False), args.runs
    )
    print(
        f"warm render, in process              median {warm:7.1f} ms   (CPU {warm_cpu:.1f})"
        "   target 100"
    )
    print(
        f"  same over WeasyPrint's own UA sheet median {full_ua:5.1f} ms   (CPU {full_ua_cpu:.1f})"
    )
    pool = asyncio.run(bench_pool(args, clinic, summary))
    result = {
        "benchmark": "pdf_bench",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "bench/pdf_bench.py", *sys.argv[1:]]),
        "load_average_before": round(load, 2),
        "weasyprint": weasyprint.__version__,
        "workers": args.workers,
        "summary": {"pages": pages, "kib": round(len(pdf) / 1024, 1)},
        "baseline_one_line_ms": {"median": round(bare, 1), "cpu_median": round(bare_cpu, 1)},
        "warm_render_ms": {
            "median": round(warm, 1),
            "cpu_median": round(warm_cpu, 1),
            "runs": args.runs,
            "target_at_most": TARGET_WARM_MS,
            "met": warm <= TARGET_WARM_MS,
            "ratio_to_baseline": round(warm / bare, 1),
        },
        "warm_render_weasyprint_ua_ms": {
            "median": round(full_ua, 1),
            "cpu_median": round(full_ua_cpu, 1),
        },
        **pool,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
