"""The dashboard's three reads, of the tallies the database keeps (migration 0006): counts by
day, level and status; waits by level and whole minute; red flags by rule. A year of tallies is
a few hundred thousand rows at most, however many intakes there are; the intakes themselves are
not read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.intake import rules_in_force
from service.models import IntakeTally, RedFlagTally
from service.stats._figures import Counted, Waited, figures, stats_range


def stats_statements(first: date, last: date) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The three reads of the tallies for intakes submitted from `first` to `last`: intakes by
    day, level and status; seen intakes by level and whole minute waited (how many were seen,
    and how long they waited, from the same rows); current red flags by rule."""
    intakes = IntakeTally
    in_range = intakes.day.between(first, last)
    counts = (
        select(intakes.day, intakes.queue_rank, intakes.status, func.sum(intakes.intakes))
        .where(in_range)
        .group_by(intakes.day, intakes.queue_rank, intakes.status)
    )
    waits = (
        select(intakes.queue_rank, intakes.seen_minute, func.sum(intakes.intakes))
        .where(in_range, intakes.seen_minute >= 0)
        .group_by(intakes.queue_rank, intakes.seen_minute)
    )
    flags = (
        select(RedFlagTally.rule_id, func.sum(RedFlagTally.flags))
        .where(RedFlagTally.day.between(first, last))
        .group_by(RedFlagTally.rule_id)
    )
    return counts, waits, flags


async def read_counts(
    session: AsyncSession, first: date, last: date
) -> tuple[list[Counted], list[Waited], dict[str, int]]:
    """The rows the figures are made of, for intakes submitted from `first` to `last`."""
    counts, waits, flags = stats_statements(first, last)
    counted = [Counted(*row) for row in (await session.execute(counts)).all()]
    waited = [Waited(*row) for row in (await session.execute(waits)).all()]
    fired: dict[str, int] = dict((await session.execute(flags)).tuples().all())
    return counted, waited, fired


async def clinic_figures(
    session: AsyncSession,
    clinic: Clinic,
    long_wait_minutes: Mapping[str, int],
    first: date | None,
    last: date | None,
    now: datetime,
) -> dict[str, object]:
    """The dashboard's figures for the days asked (by default the last 30 up to today, clinic
    time); raises `RangeError` for a range it does not answer."""
    first, last = stats_range(first, last, clinic.today(now))
    counted, waited, fired = await read_counts(session, first, last)
    rules = list(rules_in_force(clinic))
    return figures(
        first, last, clinic.timezone.key, counted, waited, fired, rules, long_wait_minutes
    )
