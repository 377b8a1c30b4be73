"""What the reads-at-scale benchmarks share (bench/queue_scale.py, bench/stats_scale.py): one
child process per database size, each with a seeded database and the real server, read in turn.

Every size's server is up at once and read one request after another, each size first as often
as last: a burst of load from elsewhere on the machine falls on every size alike, so the ratio
of their medians holds even when the machine is busy.
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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.sql.expression import Executable

from bench.common import percentile, serve, workspace
from bench.seed import seed
from service.settings import async_database_url

QueryPlan = Callable[[str], Awaitable[list[str]]]


async def explain(database_url: str, statement: Executable) -> list[str]:
    """The database's plan of `statement` with its parameters (SQLite `EXPLAIN QUERY PLAN`,
    PostgreSQL `EXPLAIN (ANALYZE, BUFFERS)`)."""
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


def hold(database: str, size: int, role: str, query_plan: QueryPlan) -> None:
    """Child process: one seeded database, a `role` API token and its server, until the parent
    closes stdin. One process per size, so each has its own workspace (its own PostgreSQL
    database)."""
    with workspace(database) as space:
        seeded = seed(space.database_url, size)
        token = space.token(role)
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
def held(script: str, database: str, size: int) -> Iterator[dict[str, Any]]:
    """A seeded database of `size` intakes and its server, in a child process of `script`
    (which calls `hold` when run with `--hold DATABASE SIZE`)."""
    command = [sys.executable, script, "--hold", database, str(size)]
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


def measure(
    script: str,
    database: str,
    sizes: list[int],
    requests: int,
    warmup: int,
    path: str,
    rows: Callable[[Any], int],
) -> dict[str, Any]:
    """`requests` rounds of one GET `path` to every size's server in turn; per size the
    latency percentiles and `rows` of the last answer's JSON."""
    with ExitStack() as stack:
        servers = {size: stack.enter_context(held(script, database, size)) for size in sizes}
        clients = {
            size: stack.enter_context(
                httpx.Client(
                    base_url=ready["base_url"],
                    headers={"authorization": f"Bearer {ready['token']}"},
                    timeout=60,
                )
            )
            for size, ready in servers.items()
        }
        for client in clients.values():
            for _ in range(warmup):
                client.get(path).raise_for_status()
        timings: dict[int, list[float]] = {size: [] for size in sizes}
        returned = {}
        for turn in range(requests):
            order = sizes[turn % len(sizes) :] + sizes[: turn % len(sizes)]
            for size in order:
                started = time.perf_counter()
                response = clients[size].get(path)
                timings[size].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                returned[size] = rows(response.json())
    return {
        str(size): {
            "stored_intakes": servers[size]["stored_intakes"],
            "seed_seconds": servers[size]["seed_seconds"],
            "requests": requests,
            "rows_returned": returned[size],
            "p50_ms": round(percentile(timings[size], 0.5), 2),
            "p90_ms": round(percentile(timings[size], 0.9), 2),
            "p99_ms": round(percentile(timings[size], 0.99), 2),
            "mean_ms": round(statistics.fmean(timings[size]), 2),
            "query_plan": servers[size]["query_plan"],
        }
        for size in sizes
    }


@dataclass(frozen=True)
class ScaleBenchmark:
    """One reads-at-scale benchmark: what it reads, what it reports, and its targets."""

    script: str
    description: str
    path: str
    rows: Callable[[Any], int]
    rows_heading: str
    role: str
    query_plan: QueryPlan
    result_file: Path
    targets: dict[str, float]
    target_note: str
    """After each database's ratio line, e.g. "(target <= 10.0 ms at 1M)"."""
    sizes: str
    requests: int
    warmup: int


def main(benchmark: ScaleBenchmark) -> None:
    """The command line of a reads-at-scale benchmark: measure each database, keep the JSON
    (a database run alone replaces only that database's figures), print a table and plans."""
    parser = argparse.ArgumentParser(description=benchmark.description)
    parser.add_argument("--sizes", default=benchmark.sizes)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=benchmark.requests)
    parser.add_argument("--warmup", type=int, default=benchmark.warmup)
    parser.add_argument("--output", type=Path, default=benchmark.result_file)
    parser.add_argument("--hold", nargs=2, metavar=("DATABASE", "SIZE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.hold:
        database, size = options.hold
        hold(database, int(size), benchmark.role, benchmark.query_plan)
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
        request=f"GET {benchmark.path}",
        targets=benchmark.targets,
    )
    for database in databases:
        runs: dict[str, Any] = {
            "date": results["date"],
            "command": results["command"],  # the file's keeps only the last run's
            "sizes": measure(
                benchmark.script,
                database,
                sizes,
                options.requests,
                options.warmup,
                benchmark.path,
                benchmark.rows,
            ),
        }
        if len(sizes) > 1:
            smallest, largest = runs["sizes"][str(sizes[0])], runs["sizes"][str(sizes[-1])]
            runs["ratio_of"] = f"{sizes[-1]:,}/{sizes[0]:,}"
            runs["ratio"] = round(largest["p50_ms"] / smallest["p50_ms"], 2)
            runs["largest_p50_ms"] = largest["p50_ms"]
        results["databases"][database] = runs
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results, benchmark.rows_heading, benchmark.target_note))
    for database in databases:
        for size, run in results["databases"][database]["sizes"].items():
            print(f"\n{database} {int(size):,} plan:\n  " + "\n  ".join(run["query_plan"]))


def table(results: dict[str, Any], rows_heading: str, target_note: str) -> str:
    heading = ("stored", rows_heading, "p50 ms", "p90 ms", "p99 ms", "seed s")
    widths = (11, 9, 9, 9, 9, 9)
    lines = [
        f"{'database':<11}"
        + "".join(f"{name:>{width}}" for name, width in zip(heading, widths, strict=True))
    ]
    for database, runs in results["databases"].items():
        for size, run in runs["sizes"].items():
            lines.append(
                f"{database:<11}{int(size):>11,}{run['rows_returned']:>9,}{run['p50_ms']:>9.2f}"
                f"{run['p90_ms']:>9.2f}{run['p99_ms']:>9.2f}{run['seed_seconds']:>9.1f}"
            )
        if "ratio" in runs:
            lines.append(
                f"{database:<11}p50 ratio {runs['ratio_of']}: {runs['ratio']:.2f}; p50 at "
                f"largest: {runs['largest_p50_ms']:.2f} ms {target_note}"
            )
    return "\n".join(lines)
