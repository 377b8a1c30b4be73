"""The dashboard's three queries, over one range of `ix_intake_stats` (and the red flags of the
intakes in it): counts by day, level and status; waits by level and whole minute; red flags by
rule. Each answers a few thousand rows at most, whatever the number of intakes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.intake import rules_in_force
from service.models import Intake, RedFlag
from service.stats._figures import LEVELS, Counted, Waited, figures, stats_range


def stats_statements(
    first: date, last: date, long_wait_minutes: Mapping[str, int]
) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The three queries for intakes submitted from `first` to `last`: counts by day, level
    and status (with those seen and those over their level's threshold); seen intakes by level
    and whole minute waited; current red flags by rule."""
    in_range = Intake.submitted_day.between(first, last)
    threshold = case(
        {rank: long_wait_minutes[level.value] * 60 for rank, level in enumerate(LEVELS)},
        value=Intake.queue_rank,
    )
    counts = (
        select(
            Intake.submitted_day,
            Intake.queue_rank,
            Intake.status,
            func.count(),
            func.count(Intake.seen_after_seconds),
            func.count(case((Intake.seen_after_seconds > threshold, 1))),
        )
        .where(in_range)
        .group_by(Intake.submitted_day, Intake.queue_rank, Intake.status)
    )
    minutes = Intake.seen_after_seconds // 60
    waits = (
        select(Intake.queue_rank, minutes, func.count())
        .where(in_range, Intake.seen_after_seconds.is_not(None))
        .group_by(Intake.queue_rank, minutes)
    )
    flags = (
        select(RedFlag.rule_id, func.count())
        .join(Intake, Intake.id == RedFlag.intake_id)
        .where(in_range, RedFlag.superseded_at.is_(None))
        .group_by(RedFlag.rule_id)
    )
    return counts, waits, flags


async def read_counts(
    session: AsyncSession, first: date, last: date, long_wait_minutes: Mapping[str, int]
) -> tuple[list[Counted], list[Waited], dict[str, int]]:
    """The rows the figures are made of, for intakes submitted from `first` to `last`."""
    counts, waits, flags = stats_statements(first, last, long_wait_minutes)
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
    counted, waited, fired = await read_counts(session, first, last, long_wait_minutes)
    rules = list(rules_in_force(clinic))
    return figures(first, last, clinic.timezone.key, counted, waited, fired, rules)
