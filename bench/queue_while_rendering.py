"""The reception queue's latency while PDF summaries render: idle, then with 20 renders running.

Run: python bench/queue_while_rendering.py [--requests N]
Starts a real server (uvicorn, one process, SQLite in a temporary folder), stores 40 intakes,
then times GET /api/v1/queue one request after another: first with nothing else running,
then while 20 uncached PDF summaries render. Target (issue #5): p99 while rendering at most
2x the idle p99. Prints medians and p99s and writes bench/results/queue_while_rendering.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.patients import intake_body
from tests.server import live_server


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_queue(client: httpx.Client, headers: dict[str, str], count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get("/api/v1/queue", headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "VAR_DIR": folder,
            "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        made = subprocess.run(
            [sys.executable, "-m", "service", "tokens", "create", "bench", "--role", "doctor"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        headers = {"authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
        with live_server(env, Path(folder) / "server.log") as server:
            client = httpx.Client(base_url=server.base_url, timeout=60)
            ids = []
            for number in range(40):
                body = intake_body(
                    concern_details=f"Details {number}", urination_pain=number % 2 == 0
                )
                ids.append(client.post("/api/v1/intakes", json=body).json()["id"])
            time.sleep(5)  # let the prerenders of those 40 finish
            time_queue(client, headers, 50)  # warm up
            idle = time_queue(client, headers, args.requests)

            # 20 renders of summaries not yet cached: an override makes a new revision.
            for intake_id in ids[:20]:
                client.post(
                    f"/api/v1/intakes/{intake_id}/priority",
                    headers=headers,
                    json={"priority": "urgent", "reason": "bench"},
                )

            async def render_all() -> float:
                async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as renders:
                    started = time.perf_counter()
                    results = await asyncio.gather(
                        *(
                            renders.get(f"/api/v1/intakes/{i}/summary.pdf", headers=headers)
                            for i in ids[:20]
                        )
                    )
                    assert all(r.status_code == 200 for r in results)
                    return time.perf_counter() - started

            rendering: dict[str, float] = {}
            thread = threading.Thread(
                target=lambda: rendering.update(seconds=asyncio.run(render_all()))
            )
            thread.start()
            busy: list[float] = []
            while thread.is_alive():
                busy.extend(time_queue(client, headers, 5))
            thread.join()
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "idle": {
            "requests": len(idle),
            "p50_ms": statistics.median(idle),
            "p99_ms": percentile(idle, 0.99),
        },
        "while_20_render": {
            "requests": len(busy),
            "p50_ms": statistics.median(busy),
            "p99_ms": percentile(busy, 0.99),
            "render_seconds": rendering.get("seconds"),
        },
    }
    result["p99_ratio"] = result["while_20_render"]["p99_ms"] / result["idle"]["p99_ms"]
    out = ROOT / "bench" / "results" / "queue_while_rendering.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
