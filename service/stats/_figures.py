"""The dashboard's figures from counted rows: pure, no database, no clock.

Waits are counted in whole minutes (the seconds to the doctor, rounded down); the median and
the 90th percentile interpolate linearly between the two nearest ranks (PostgreSQL's
`percentile_cont`), to one decimal. A wait is over its level's threshold when it reached the
level's long-wait setting, as the queue marks a long wait (whole minutes at least the setting).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from service.codes import Priority, Status
from service.spreadsheet import BYTE_ORDER_MARK, to_csv

DEFAULT_DAYS = 30
MAX_DAYS = 366
FINISHED = (Status.DONE, Status.NO_SHOW, Status.CANCELLED)
LEVELS = tuple(Priority)  # in rank order: LEVELS[rank]


class RangeError(ValueError):
    """A date range the dashboard does not answer; `field` is the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def stats_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days asked for, both included: by default the last 30 days up to today."""
    try:
        last = last or (first + timedelta(days=DEFAULT_DAYS - 1) if first else today)
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:  # 30 days from the calendar's ends
        raise RangeError(
            "to" if last is None else "from", "Choose days the calendar holds."
        ) from None
    if first > last:
        raise RangeError("from", "The first day is after the last day.")
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeError("to", f"A range is at most {MAX_DAYS} days.")
    return first, last


@dataclass(frozen=True)
class Counted:
    """One row of the first query: the intakes of one day, level and status."""

    day: date
    rank: int
    status: str
    intakes: int


@dataclass(frozen=True)
class Waited:
    """The seen intakes of one level that waited one whole number of minutes."""

    rank: int
    minutes: int
    intakes: int


def figures(
    first: date,
    last: date,
    timezone: str,
    counted: Iterable[Counted],
    waited: Iterable[Waited],
    red_flags: Mapping[str, int],
    rules: Iterable[str],
    long_wait_minutes: Mapping[str, int],
) -> dict[str, Any]:
    """The `GET /api/v1/stats` document (shared/contract.md)."""
    zero = {level.value: 0 for level in LEVELS}
    days = {first + timedelta(days=n): dict(zero) for n in range((last - first).days + 1)}
    by_priority = dict(zero)
    outcomes = {**{status.value: 0 for status in FINISHED}, "open": 0}
    for row in counted:
        level = LEVELS[row.rank].value
        days[row.day][level] += row.intakes
        by_priority[level] += row.intakes
        outcomes[row.status if row.status in FINISHED else "open"] += row.intakes
    histograms: dict[str, dict[int, int]] = {level.value: {} for level in LEVELS}
    for wait in waited:
        histogram = histograms[LEVELS[wait.rank].value]
        histogram[wait.minutes] = histogram.get(wait.minutes, 0) + wait.intakes
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "timezone": timezone,
        "intakes": {"total": sum(by_priority.values()), "by_priority": by_priority},
        "outcomes": outcomes,
        "seen": {
            level: {
                "count": sum(histograms[level].values()),
                "median_minutes": percentile(histograms[level], 0.5),
                "p90_minutes": percentile(histograms[level], 0.9),
                "over_threshold": sum(
                    count
                    for minutes, count in histograms[level].items()
                    if minutes >= long_wait_minutes[level]
                ),
            }
            for level in by_priority
        },
        # The rule set's rules, fired or not; then a rule of an earlier rule set that fired.
        "red_flags": {
            **{rule: red_flags.get(rule, 0) for rule in rules},
            **{rule: count for rule, count in sorted(red_flags.items()) if count},
        },
        "days": [
            {"date": day.isoformat(), "total": sum(counts.values()), "by_priority": counts}
            for day, counts in days.items()
        ],
    }


def percentile(histogram: Mapping[int, int], fraction: float) -> float | None:
    """`percentile_cont(fraction)` of the values `histogram` counts, to one decimal."""
    total = sum(histogram.values())
    if total == 0:
        return None
    position = fraction * (total - 1)
    below, share = int(position), position - int(position)
    lower = _value_at(histogram, below)
    upper = _value_at(histogram, below + 1) if share else lower
    return round(lower + (upper - lower) * share, 1)


def _value_at(histogram: Mapping[int, int], rank: int) -> int:
    """The value at `rank` (from 0) of the sorted values `histogram` counts."""
    counted = 0
    for value in sorted(histogram):
        counted += histogram[value]
        if counted > rank:
            return value
    raise IndexError(rank)


def figures_csv(document: Mapping[str, Any]) -> str:
    """The same figures as CSV, one per row: (figure, key, value), days last."""
    rows: list[tuple[str, str, object]] = [
        ("range", "from", document["from"]),
        ("range", "to", document["to"]),
        ("range", "timezone", document["timezone"]),
        ("intakes", "total", document["intakes"]["total"]),
        *(("intakes", level, n) for level, n in document["intakes"]["by_priority"].items()),
        *(("outcomes", outcome, n) for outcome, n in document["outcomes"].items()),
        *(
            (f"seen.{level}", name, "" if value is None else value)
            for level, waits in document["seen"].items()
            for name, value in waits.items()
        ),
        *(("red_flags", rule, n) for rule, n in document["red_flags"].items()),
    ]
    for day in document["days"]:
        rows.append((f"day.{day['date']}", "total", day["total"]))
        rows.extend((f"day.{day['date']}", level, n) for level, n in day["by_priority"].items())
    return BYTE_ORDER_MARK + to_csv(rows, ("figure", "key", "value"))
