"""The dashboard's figures against a big history: does GET /api/v1/stats for a whole year answer
in at most 200 ms with a million intakes stored?

Run: python bench/stats_scale.py [--sizes 10000,1000000] [--database sqlite|postgresql|both]
                                 [--requests 60] [--warmup 5] [--output FILE]

For each database and each size N, in a child process of its own (bench.scale): a fresh
migrated database, N intakes seeded in bulk (bench/seed.py: ~2.5 years of history, so a year
holds about two fifths of them, most done and seen by a doctor, with red flags), a doctor's API
token and the real server. Every server is read in turn: GET /api/v1/stats for the last 366
days (the longest range), each read a full one (token checked, the read audited and committed).
The smallest size is the baseline in the same run: the ratio of the medians is what the size
of the history costs.

Reported per run: p50, p90, p99 and mean latency in ms, the intakes the figures counted, and the
plans of the three queries (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN (ANALYZE,
BUFFERS)`). Target (issue 19): p50 at most 200 ms at 1M, on each database.

Writes bench/results/stats_scale.json (a database run alone replaces only that database's
figures) and prints a table. Exit status 1 when a read fails.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scale
from bench.common import RESULTS
from service.clinic import Clinic
from service.settings import get_settings
from service.stats import MAX_DAYS, stats_statements

RESULT_FILE = RESULTS / "stats_scale.json"
TARGET_P50_MS = 200.0


def year() -> tuple[str, str]:
    """The longest range the API answers, ending today (clinic time)."""
    today = Clinic.load(get_settings()).today(datetime.now(UTC))
    return (today - timedelta(days=MAX_DAYS - 1)).isoformat(), today.isoformat()


async def query_plan(database_url: str) -> list[str]:
    """The plans of the three queries exactly as the service builds them, for the year."""
    first, last = (datetime.fromisoformat(day).date() for day in year())
    plans = []
    for name, statement in zip(
        ("counts", "waits", "flags"),
        stats_statements(first, last),
        strict=True,
    ):
        plans += [f"[{name}] {line}" for line in await scale.explain(database_url, statement)]
    return plans


def _counted(figures: dict[str, Any]) -> int:
    total: int = figures["intakes"]["total"]
    return total


FIRST, LAST = year()
BENCHMARK = scale.ScaleBenchmark(
    script=__file__,
    description=__doc__.splitlines()[0],
    path=f"/api/v1/stats?from={FIRST}&to={LAST}",
    rows=_counted,
    rows_heading="counted",
    role="doctor",
    query_plan=query_plan,
    result_file=RESULT_FILE,
    targets={"p50_ms_at_1M": TARGET_P50_MS},
    target_note=f"(target <= {TARGET_P50_MS} ms at 1M)",
    sizes="10000,1000000",
    requests=60,
    warmup=5,
)

if __name__ == "__main__":
    scale.main(BENCHMARK)
