"""Queue reads against a big history: does GET /api/v1/queue stay fast at 1M stored intakes?

Run: python bench/queue_scale.py [--sizes 10000,100000,1000000] [--database sqlite|postgresql|both]
                                 [--requests 300] [--warmup 30] [--output FILE]

For each database and each size N, in a child process of its own: a fresh migrated database
(bench.common.workspace), N intakes seeded in bulk (bench/seed.py: ~2.5 years of history, most
of it done, and today's open queue of 100 intakes, the same at every N), a reception API token
and the real server (bench.common.serve, uvicorn with the app factory). With every size's
server up, `--warmup` reads each, then `--requests` rounds of one GET /api/v1/queue to each
server in turn (one keep-alive connection per server, sequential): the machine is shared, and
a burst of load from elsewhere then falls on every size alike. Every read is a full one: the
bearer token is checked, the token use and the queue read are written to the audit trail and
committed.

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
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import RESULTS, percentile, serve, workspace
from bench.seed import seed
from service.clinic import Clinic
from service.queue import OPEN_STATUSES, QUEUE_QUERY, queue_parameters
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


def hold(database: str, size: int) -> None:
    """Child process: one seeded database and its server, until the parent closes stdin.

    One process per size, so each has its own workspace (its own PostgreSQL database)."""
    with workspace(database) as space:
        seeded = seed(space.database_url, size)
        token = space.token("reception")
        plan = asyncio.run(query_plan(space.database_url))
        with serve(space) as server:
            ready = {
                "base_url": server.base_url,
                "pid": server.pid,
                "token": token,
                "stored_intakes": seeded.intakes,
                "red_flags": seeded.red_flags,
                "status_changes": seeded.status_changes,
                "seed_seconds": seeded.seconds,
                "query_plan": plan,
            }
            print(json.dumps(ready), flush=True)
            sys.stdin.read()


@contextmanager
def held(database: str, size: int) -> Iterator[dict[str, Any]]:
    """A seeded database of `size` intakes and its server, in a child process."""
    command = [sys.executable, __file__, "--hold", database, str(size)]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        line = child.stdout.readline()
        if not line:
            raise RuntimeError(f"seeding {size:,} intakes on {database} failed")
        ready: dict[str, Any] = json.loads(line)
        print(
            f"{database} {size:,}: seeded {ready['stored_intakes']:,} intakes, "
            f"{ready['red_flags']:,} red flags, {ready['status_changes']:,} status changes in "
            f"{ready['seed_seconds']} s",
            flush=True,
        )
        yield ready
    finally:
        child.stdin.close()
        child.wait(timeout=300)


def measure(database: str, sizes: list[int], requests: int, warmup: int) -> dict[str, Any]:
    """Every size's server at once, read in turn: a burst of load from anything else on the
    machine falls on all sizes alike, so their ratio holds even when the machine is busy."""
    with ExitStack() as stack:
        servers = {size: stack.enter_context(held(database, size)) for size in sizes}
        clients = {
            size: stack.enter_context(
                httpx.Client(
                    base_url=ready["base_url"],
                    headers={"authorization": f"Bearer {ready['token']}"},
                )
            )
            for size, ready in servers.items()
        }
        for client in clients.values():
            for _ in range(warmup):
                client.get("/api/v1/queue").raise_for_status()
        timings: dict[int, list[float]] = {size: [] for size in sizes}
        rows = {}
        for turn in range(requests):
            # Each size first as often as last.
            order = sizes[turn % len(sizes) :] + sizes[: turn % len(sizes)]
            for size in order:
                started = time.perf_counter()
                response = clients[size].get("/api/v1/queue")
                timings[size].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                rows[size] = len(response.json())
    return {
        str(size): {
            "stored_intakes": servers[size]["stored_intakes"],
            "seed_seconds": servers[size]["seed_seconds"],
            "requests": requests,
            "rows_returned": rows[size],
            "p50_ms": round(percentile(timings[size], 0.5), 2),
            "p90_ms": round(percentile(timings[size], 0.9), 2),
            "p99_ms": round(percentile(timings[size], 0.99), 2),
            "mean_ms": round(statistics.fmean(timings[size]), 2),
            "query_plan": servers[size]["query_plan"],
        }
        for size in sizes
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
    parser.add_argument("--hold", nargs=2, metavar=("DATABASE", "SIZE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.hold:
        hold(options.hold[0], int(options.hold[1]))
        return
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
        runs: dict[str, Any] = {
            "date": results["date"],
            "command": results["command"],  # the file's keeps only the last run's
            "sizes": measure(database, sizes, options.requests, options.warmup),
        }
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
