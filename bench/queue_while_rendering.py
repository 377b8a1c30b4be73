"""The reception queue's latency while PDF summaries render: idle, then with 20 renders running.

Run: python bench/queue_while_rendering.py [--requests N] [--renders N] [--json PATH]
Starts a real server (bench.common.serve: uvicorn, one process, SQLite in a temporary folder),
stores twice as many intakes as `--renders`, then times GET /api/v1/queue one request after
another: first with nothing else running (the baseline), then while `--renders` (20) uncached
PDF summaries render. Those 20 are asked for all at once by a process of their own, so that
their client never holds this process's GIL while it times the queue. Target (issue #5): p99
while rendering at most 2x the idle p99. Prints and writes the figures (default
bench/results/queue_while_rendering.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, percentile, serve, workspace
from tests.patients import intake_body

RESULT_FILE = RESULTS / "queue_while_rendering.json"
TARGET_P99_RATIO = 2.0


def time_queue(client: httpx.Client, headers: dict[str, str], count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get("/api/v1/queue", headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return timings


def latency(timings: list[float]) -> dict[str, float]:
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
    }


def fetch_summaries(
    base_url: str,
    headers: dict[str, str],
    ids: list[str],
    asking: EventType,
    answered: EventType,
    seconds: Synchronized[float],
) -> None:
    """Ask for every summary at once (each one not cached yet), in a process of its own;
    `asking` is set as the requests go out, `answered` when the last PDF has come back."""

    async def fetch_all() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as pdfs:
            asking.set()
            started = time.perf_counter()
            results = await asyncio.gather(
                *(pdfs.get(f"/api/v1/intakes/{i}/summary.pdf", headers=headers) for i in ids)
            )
            seconds.value = time.perf_counter() - started
            answered.set()
            assert all(r.status_code == 200 for r in results)

    asyncio.run(fetch_all())


def measure(requests: int, renders: int) -> dict[str, object]:
    with workspace() as space:
        headers = {"authorization": f"Bearer {space.token('doctor')}"}
        with serve(space) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
            ids = []
            for number in range(2 * renders):
                body = intake_body(
                    concern_details=f"Details {number}", urination_pain=number % 2 == 0
                )
                ids.append(client.post("/api/v1/intakes", json=body).json()["id"])
            time.sleep(5)  # let the prerenders of those intakes finish
            time_queue(client, headers, 50)  # warm up
            idle = time_queue(client, headers, requests)

            # Renders of summaries not yet cached: an override makes a new revision.
            for intake_id in ids[:renders]:
                client.post(
                    f"/api/v1/intakes/{intake_id}/priority",
                    headers=headers,
                    json={"priority": "urgent", "reason": "bench"},
                )

            # The PDFs are asked for by another process: sharing this one's GIL, their client
            # would delay the queue timer below and count its own waits as the server's.
            spawn = multiprocessing.get_context("spawn")
            asking, answered = spawn.Event(), spawn.Event()
            seconds = spawn.Value("d", 0.0)
            fetcher = spawn.Process(
                target=fetch_summaries,
                args=(server.base_url, headers, ids[:renders], asking, answered, seconds),
            )
            fetcher.start()
            if not asking.wait(timeout=60):
                raise SystemExit("the summary fetcher did not start")
            busy: list[float] = []
            # Until the last PDF is back, not until the fetcher has exited: its shutdown is
            # no rendering time.
            while not answered.is_set() and fetcher.is_alive():
                busy.extend(time_queue(client, headers, 5))
            fetcher.join()
            if fetcher.exitcode != 0:
                raise SystemExit("a summary fetch failed")
            render_seconds = seconds.value
    ratio = percentile(busy, 0.99) / percentile(idle, 0.99)
    return {
        "idle": latency(idle),
        "while_rendering": {
            **latency(busy),
            "renders": renders,
            "render_seconds": round(render_seconds, 2),
        },
        "p99_ratio": round(ratio, 2),
        "target_p99_ratio_at_most": TARGET_P99_RATIO,
        "met": ratio <= TARGET_P99_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--json", type=Path, default=RESULT_FILE)
    args = parser.parse_args()
    result = {
        "benchmark": "queue_while_rendering",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "bench/queue_while_rendering.py", *sys.argv[1:]]),
        "load_average_before": round(os.getloadavg()[0], 2),
        **measure(args.requests, args.renders),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
