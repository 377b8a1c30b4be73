"""Queue reads against a big history: does GET /api/v1/queue stay fast at 1M stored intakes?

Run: python bench/queue_scale.py [--sizes 10000,100000,1000000] [--database sqlite|postgresql|both]
                                 [--requests 300] [--warmup 30] [--output FILE]

For each database and each size N: a fresh migrated database (bench.common.workspace), N
intakes seeded in bulk (bench/seed.py: ~2.5 years of history, mostly done, and today's open
queue of 100 intakes, the same at every N), a reception API token, the real server
(bench.common.serve, uvicorn with the app factory), then `--warmup` and `--requests` sequential
GET /api/v1/queue with one keep-alive connection. Every read is a full one: the bearer token is
checked, the token use and the queue read are written to the audit trail and committed.

Reported per run: p50, p90, p99 and mean latency in ms, the rows returned (today's open queue),
and the query plan of the queue's query on that database (SQLite `EXPLAIN QUERY PLAN`,
PostgreSQL `EXPLAIN (ANALYZE, BUFFERS)`); per database the cost ratio p50(largest N) /
p50(smallest N). Targets (issue #9): p50 at most 10 ms at 1M, ratio at most 1.5.

Writes bench/results/queue_scale.json (a database run alone replaces only that database's
figures) and prints a table. Exit status 1 when a read fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import RESULTS, percentile, serve, workspace
from bench.seed import seed
from service.intake import Clinic
from service.queue import OPEN_STATUSES
from service.queue.listing import QUEUE_QUERY, queue_parameters
from service.settings import async_database_url, get_settings

RESULT_FILE = RESULTS / "queue_scale.json"
TARGET_P50_MS = 10.0
TARGET_RATIO = 1.5


async def query_plan(database_url: str) -> list[str]:
    """The plan of the queue's query exactly as the service builds it, for today."""
    clinic = Clinic.load(get_settings())
    today = clinic.today(datetime.now(UTC))
    statement = QUEUE_QUERY.params(queue_parameters(today, clinic.timezone, OPEN_STATUSES))
    engine = create_async_engine(async_database_url(database_url))
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    processors = compiled._bind_processors
    names = compiled.positiontup or []
    arguments = tuple(
        processors[name](params[name]) if name in processors else params[name] for name in names
    )
    sqlite = engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql(explain + compiled.string, arguments)
            rows = result.all()
    finally:
        await engine.dispose()
    if sqlite:
        return [f"{row[0]}:{row[1]} {row[3]}" for row in rows]
    return [str(row[0]) for row in rows]


def measure(database: str, size: int, requests: int, warmup: int) -> dict[str, Any]:
    with workspace(database) as space:
        seeded = seed(space.database_url, size)
        print(
            f"{database} {size:,}: seeded {seeded.intakes:,} intakes, {seeded.red_flags:,} red "
            f"flags, {seeded.status_changes:,} status changes in {seeded.seconds} s",
            flush=True,
        )
        token = space.token("reception")
        plan = asyncio.run(query_plan(space.database_url))
        headers = {"authorization": f"Bearer {token}"}
        with (
            serve(space) as server,
            httpx.Client(base_url=server.base_url, headers=headers) as client,
        ):
            for _ in range(warmup):
                client.get("/api/v1/queue").raise_for_status()
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/api/v1/queue")
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            rows = len(response.json())
    return {
        "stored_intakes": seeded.intakes,
        "seed_seconds": seeded.seconds,
        "requests": requests,
        "rows_returned": rows,
        "p50_ms": round(percentile(timings, 0.5), 2),
        "p90_ms": round(percentile(timings, 0.9), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
        "query_plan": plan,
    }


def table(results: dict[str, Any]) -> str:
    heading = ("stored", "rows", "p50 ms", "p90 ms", "p99 ms", "seed s")
    widths = (11, 6, 9, 9, 9, 9)
    lines = [
        f"{'database':<11}"
        + "".join(f"{name:>{width}}" for name, width in zip(heading, widths, strict=True))
    ]
    for database, runs in results["databases"].items():
        for size, run in runs["sizes"].items():
            lines.append(
                f"{database:<11}{int(size):>11,}{run['rows_returned']:>6}{run['p50_ms']:>9.2f}"
                f"{run['p90_ms']:>9.2f}{run['p99_ms']:>9.2f}{run['seed_seconds']:>9.1f}"
            )
        if "ratio" in runs:
            lines.append(
                f"{database:<11}p50 ratio {runs['ratio_of']}: {runs['ratio']:.2f} "
                f"(target <= {TARGET_RATIO}); p50 at largest: {runs['largest_p50_ms']:.2f} ms "
                f"(target <= {TARGET_P50_MS} ms at 1M)"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--output", type=Path, default=RESULT_FILE)
    options = parser.parse_args()
    sizes = sorted(int(size) for size in options.sizes.split(","))
    databases = ["sqlite", "postgresql"] if options.database == "both" else [options.database]

    results: dict[str, Any] = {"databases": {}}
    if options.output.exists():
        results = json.loads(options.output.read_text())
    results.update(
        date=datetime.now(UTC).date().isoformat(),
        cores=os.cpu_count(),
        command="python " + " ".join(sys.argv),
        targets={"p50_ms_at_1M": TARGET_P50_MS, "ratio_1M_to_10k": TARGET_RATIO},
    )
    for database in databases:
        runs: dict[str, Any] = {"sizes": {}}
        for size in sizes:
            runs["sizes"][str(size)] = measure(database, size, options.requests, options.warmup)
            print(table({"databases": {database: runs}}).splitlines()[-1], flush=True)
        if len(sizes) > 1:
            smallest, largest = runs["sizes"][str(sizes[0])], runs["sizes"][str(sizes[-1])]
            runs["ratio_of"] = f"{sizes[-1]:,}/{sizes[0]:,}"
            runs["ratio"] = round(largest["p50_ms"] / smallest["p50_ms"], 2)
            runs["largest_p50_ms"] = largest["p50_ms"]
        results["databases"][database] = runs
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    for database in databases:
        for size, run in results["databases"][database]["sizes"].items():
            print(f"\n{database} {int(size):,} plan:\n  " + "\n  ".join(run["query_plan"]))


if __name__ == "__main__":
    main()
