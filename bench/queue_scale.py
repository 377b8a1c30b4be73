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

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench import scale
from bench.common import RESULTS
from service.clinic import Clinic
from service.queue import OPEN_STATUSES, QUEUE_QUERY, queue_parameters
from service.settings import get_settings

RESULT_FILE = RESULTS / "queue_scale.json"
TARGET_P50_MS = 10.0
TARGET_RATIO = 1.5


async def query_plan(database_url: str) -> list[str]:
    """The plan of the queue's query exactly as the service builds it, for today."""
    clinic = Clinic.load(get_settings())
    today = clinic.today(datetime.now(UTC))
    statement = QUEUE_QUERY.params(queue_parameters(today, clinic.timezone, OPEN_STATUSES))
    return await scale.explain(database_url, statement)


BENCHMARK = scale.ScaleBenchmark(
    script=__file__,
    description=__doc__.splitlines()[0],
    path="/api/v1/queue",
    rows=len,
    rows_heading="rows",
    role="reception",
    query_plan=query_plan,
    result_file=RESULT_FILE,
    targets={"p50_ms_at_1M": TARGET_P50_MS, "ratio_1M_to_10k": TARGET_RATIO},
    target_note=f"(target <= {TARGET_P50_MS} ms at 1M; ratio target <= {TARGET_RATIO})",
    sizes="10000,100000,1000000",
    requests=300,
    warmup=30,
)

if __name__ == "__main__":
    scale.main(BENCHMARK)
