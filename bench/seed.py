"""Fast bulk seeding of stored intakes into a migrated database, not through HTTP.

Run: python bench/seed.py DATABASE_URL COUNT [--today-open 100] [--days 900]
or `seed(database_url, count, today_open=100)` from another benchmark.

The rows are the ones the service stores: the answers of the example patients of
tests/domain/cases.toml (validated, triaged and turned into JSON as `submit_intake` does, in
English and Malayalam), with names and phone numbers varied per row, red flags for the intakes
whose answers fire rules, and status history for a share of them. COUNT intakes are spread
over the last `--days` clinic-local days, most of them done; today (in the clinic's time zone)
holds the same realistic open queue of `--today-open` intakes in every status and level,
whatever COUNT is, plus a few already finished. A small share of past intakes were never
closed (left `new` or `called`), as happens at a real reception desk.

Values go through the columns' own SQLAlchemy bind processors, so they are stored exactly as
the service stores them; inserts are batched in one transaction (sqlite3 `executemany`,
asyncpg `COPY` on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg
from sqlalchemy import Table
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service.clinic import Clinic
from service.intake.stored import advice_to_json, answers_to_json, red_flags_of
from service.models import Intake, RedFlag, StatusChange, new_reference
from service.questionnaire import Language
from service.queue import Status
from service.settings import async_database_url, get_settings
from service.triage import Priority, patient_advice
from tests.domain.support import CASES, submit
from tests.patients import patient_json

BATCH = 20_000
# How often each level is computed for a clinic's intakes (the rest of the weight: routine).
LEVEL_SHARES = {
    Priority.EMERGENCY: 0.02,
    Priority.URGENT: 0.08,
    Priority.SOON: 0.20,
    Priority.ROUTINE: 0.70,
}
# Past intakes: where they ended. The open ones were never closed by reception.
PAST_STATUSES = {
    Status.DONE: 0.88,
    Status.NO_SHOW: 0.06,
    Status.CANCELLED: 0.05,
    Status.NEW: 0.008,
    Status.CALLED: 0.002,
}
# Today's open queue, by status (its levels follow LEVEL_SHARES, with a few more emergencies).
TODAY_OPEN_STATUSES = {
    Status.NEW: 0.55,
    Status.CALLED: 0.15,
    Status.ARRIVED: 0.20,
    Status.WITH_DOCTOR: 0.10,
}
TODAY_FINISHED = 20
FORWARD = [Status.NEW, Status.CALLED, Status.ARRIVED, Status.WITH_DOCTOR, Status.DONE]
FIRST_NAMES = ["Anil", "Rahul", "Suresh", "Vinod", "Arjun", "Joseph", "Faisal", "Manoj", "Ravi"]
LAST_NAMES = ["Kumar", "Nair", "Menon", "Pillai", "Thomas", "Varghese", "Rahman", "Das", "Iyer"]
MALAYALAM_NAMES = ["അനിൽ കുമാർ", "രാഹുൽ നായർ", "സുരേഷ് മേനോൻ", "ജോസഫ് തോമസ്"]
# Placeholders in a variant's answers, replaced per row in the JSON text.
NAME_MARK, PHONE_MARK = "@@full_name@@", "@@phone@@"


@dataclass(frozen=True)
class Variant:
    """One example patient as stored: everything but the id, reference, name, phone and times."""

    language: Language
    level: Priority
    answers_json: Any  # the bound answers, with NAME_MARK and PHONE_MARK in them
    advice_json: Any
    consent_text: str
    flags: tuple[tuple[str, int, str, Any], ...]  # rule id, rule-set version, level, answers


@dataclass
class SeedReport:
    database_url: str
    intakes: int
    red_flags: int
    status_changes: int
    today_open: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def _dialect(database_url: str) -> Dialect:
    return create_async_engine(async_database_url(database_url)).dialect


def _binder(table: Table, dialect: Dialect) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Turns a row of Python values into the stored values, column by column, as SQLAlchemy
    would (GUID bytes on SQLite, UTC timestamps, JSON text)."""
    columns = [column for column in table.columns if column.autoincrement is not True]
    processors = [column.type._cached_bind_processor(dialect) for column in columns]
    names = [column.name for column in columns]

    def bind(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            process(row.get(name)) if process else row.get(name)
            for name, process in zip(names, processors, strict=True)
        )

    return bind


def _columns(table: Table) -> list[str]:
    return [column.name for column in table.columns if column.autoincrement is not True]


def variants(clinic: Clinic, today: date, dialect: Dialect) -> dict[Priority, list[Variant]]:
    """Every example patient of cases.toml that validates, triaged as the service would (with
    the bundled questionnaire and rule set)."""
    answers_type = Intake.__table__.c.answers.type
    bind_json = answers_type._cached_bind_processor(dialect) or (lambda value: value)
    found: dict[Priority, list[Variant]] = {level: [] for level in Priority}
    for case in [{"answers": {}}, *CASES["cases"]]:
        for language in ("en", "ml"):
            result, triage = submit(patient_json(**case.get("answers", {})), today, language)
            if triage is None:
                continue
            told = patient_advice(
                triage, result.answers, language, clinic_phone=clinic.phone, advice=clinic.advice
            )
            stored = answers_to_json(result.answers)
            stored["full_name"], stored["phone"] = NAME_MARK, PHONE_MARK
            flags = tuple(
                (flag.rule_id, flag.rule_set_version, flag.level, flag.triggering_answers)
                for flag in red_flags_of(triage, datetime.now(UTC))
            )
            found[triage.level].append(
                Variant(
                    language=language,
                    level=triage.level,
                    answers_json=bind_json(stored),
                    advice_json=bind_json(advice_to_json(told)),
                    consent_text=clinic.consent.text.get(language),
                    flags=flags,
                )
            )
    return found


def _weighted(shares: dict[Any, float], rng: random.Random, count: int) -> list[Any]:
    return rng.choices(list(shares), weights=list(shares.values()), k=count)


class _Rows:
    """Builds intake, red flag and status change rows, in the stored form, in batches."""

    def __init__(
        self, clinic: Clinic, dialect: Dialect, today: date, rng: random.Random, history: float
    ) -> None:
        self.clinic = clinic
        self.rng = rng
        self.history = history
        self.variants = variants(clinic, today, dialect)
        self.references: set[str] = set()
        self.bind_intake = _binder(Intake.__table__, dialect)
        self.bind_flag = _binder(RedFlag.__table__, dialect)
        self.bind_change = _binder(StatusChange.__table__, dialect)
        names = _columns(Intake.__table__)
        self.answers_at, self.advice_at = names.index("answers"), names.index("advice")
        self.flag_total = self.change_total = 0
        self.flags: list[tuple[Any, ...]] = []
        self.changes: list[tuple[Any, ...]] = []
        self.counts: dict[str, int] = {}

    def _reference(self) -> str:
        while (reference := new_reference()) in self.references:
            pass
        self.references.add(reference)
        return reference

    def _person(self, language: str) -> tuple[str, str]:
        rng = self.rng
        if language == "ml" and rng.random() < 0.5:
            name = rng.choice(MALAYALAM_NAMES)
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        return name, f"9{rng.randrange(10**8, 10**9)}"

    def _answers(self, variant: Variant, name: str, phone: str) -> Any:
        # The JSON text as the column's processor wrote it; the name escaped the same way.
        text = variant.answers_json
        return text.replace(json.dumps(NAME_MARK)[1:-1], json.dumps(name)[1:-1]).replace(
            PHONE_MARK, phone
        )

    def intake(
        self, submitted_at: datetime, status: Status, level: Priority, *, acknowledged: bool
    ) -> tuple[Any, ...]:
        rng = self.rng
        variant = rng.choice(self.variants[level] or self.variants[Priority.ROUTINE])
        intake_id = uuid4()
        override = None
        if rng.random() < 0.02:
            override = rng.choice([p for p in Priority if p is not variant.level])
        effective = override or variant.level
        name, phone = self._person(variant.language)
        timeline = self._timeline(submitted_at, status)
        seen = next((at for step, at in timeline if step is Status.WITH_DOCTOR), None)
        row = {
            "id": intake_id,
            "reference": self._reference(),
            "language": variant.language,
            "questionnaire_version": self.clinic.questionnaire.version,
            "consent_version": self.clinic.consent.version,
            "consent_text": variant.consent_text,
            "submitted_at": submitted_at,
            "submitted_day": self.clinic.today(submitted_at),
            "seen_after_seconds": int((seen - submitted_at).total_seconds()) if seen else None,
            "status": status.value,
            "computed_priority": variant.level.value,
            "rule_set": self.clinic.rule_set.name,
            "rule_set_version": self.clinic.rule_set.version,
            "override_priority": override.value if override else None,
            "override_reason": "Seen the answers again; the level fits better."
            if override
            else None,
            "overridden_at": submitted_at + timedelta(minutes=20) if override else None,
            "queue_rank": effective.rank,
            "revision": 2 if override else 1,
            "acknowledged_at": (
                submitted_at + timedelta(minutes=2)
                if acknowledged and effective is Priority.EMERGENCY
                else None
            ),
            "idempotency_key": str(uuid4()) if rng.random() < 0.5 else None,
            "request_digest": hashlib.sha256(intake_id.bytes).hexdigest(),
        }
        bound = list(self.bind_intake(row))
        # The answers and advice are bound once per variant; only the name and phone vary.
        bound[self.answers_at] = self._answers(variant, name, phone)
        bound[self.advice_at] = variant.advice_json
        for rule_id, version, flag_level, triggering in variant.flags:
            self.flags.append(
                self.bind_flag(
                    {
                        "intake_id": intake_id,
                        "rule_id": rule_id,
                        "rule_set_version": version,
                        "level": flag_level,
                        "triggering_answers": triggering,
                        "fired_at": submitted_at,
                    }
                )
            )
        self.flag_total += len(variant.flags)
        if rng.random() < self.history or (status is not Status.DONE and rng.random() < 0.5):
            self._history(intake_id, timeline)
        self.counts[status.value] = self.counts.get(status.value, 0) + 1
        return tuple(bound)

    def _timeline(self, submitted_at: datetime, status: Status) -> list[tuple[Status, datetime]]:
        """Each step to `status` and when it was taken: minutes apart, the first at submission."""
        steps: list[Status] = (
            FORWARD[: FORWARD.index(status) + 1] if status in FORWARD else [Status.NEW, status]
        )
        timeline, at = [], submitted_at
        for step in steps:
            timeline.append((step, at))
            at += timedelta(minutes=self.rng.randrange(3, 40))
        return timeline

    def _history(self, intake_id: UUID, timeline: list[tuple[Status, datetime]]) -> None:
        previous = None
        for step, at in timeline:
            self.changes.append(
                self.bind_change(
                    {
                        "intake_id": intake_id,
                        "from_status": previous,
                        "to_status": step.value,
                        "changed_at": at,
                    }
                )
            )
            self.change_total += 1
            previous = step.value


def planned_intakes(
    clinic: Clinic, count: int, today_open: int, days: int, now: datetime, rng: random.Random
) -> Iterator[tuple[datetime, Status, Priority, bool]]:
    """(submitted_at, status, level, acknowledged) for every intake: the past, then today."""
    tz = clinic.timezone
    today = clinic.today(now)
    day_start = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    today_count = today_open + TODAY_FINISHED
    past = max(0, count - today_count)
    levels = _weighted(LEVEL_SHARES, rng, past)
    statuses = _weighted(PAST_STATUSES, rng, past)
    for index in range(past):
        day = day_start - timedelta(days=1 + index * days // max(past, 1))
        # Forms come in from early morning to late evening, clinic time.
        at = day + timedelta(seconds=rng.randrange(7 * 3600, 22 * 3600))
        yield at.astimezone(UTC), statuses[index], levels[index], True
    # Today: submitted between the clinic's midnight and a minute ago.
    latest = now - timedelta(minutes=1)
    span = max(1, int((latest - day_start).total_seconds()))
    today_levels = {**LEVEL_SHARES, Priority.EMERGENCY: 0.05}
    for index in range(min(count, today_count)):
        at = (latest - timedelta(seconds=rng.randrange(span))).astimezone(UTC)
        level = _weighted(today_levels, rng, 1)[0]
        if index < today_open:
            status = _weighted(TODAY_OPEN_STATUSES, rng, 1)[0]
            yield at, status, level, rng.random() < 0.5
        else:
            yield at, rng.choice([Status.DONE, Status.NO_SHOW, Status.CANCELLED]), level, True


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _sqlite_path(database_url: str) -> str:
    database = make_url(database_url).database
    assert database, database_url
    return database


def _insert_sql(table: Table) -> str:
    names = _columns(table)
    marks = ", ".join("?" * len(names))
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608 (our names)


def _seed_sqlite(database_url: str, intakes: Iterator[tuple[Any, ...]], rows: _Rows) -> int:
    connection = sqlite3.connect(_sqlite_path(database_url), isolation_level=None)
    try:
        # A benchmark's scratch database: no need to wait for the disk while filling it.
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")
        connection.execute("BEGIN")
        total = 0
        for batch in _batches(intakes, BATCH):
            connection.executemany(_insert_sql(Intake.__table__), batch)
            connection.executemany(_insert_sql(RedFlag.__table__), rows.flags)
            connection.executemany(_insert_sql(StatusChange.__table__), rows.changes)
            rows.flags.clear()
            rows.changes.clear()
            total += len(batch)
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    # Written without waiting for the disk: wait now, or the kernel's writeback of the whole
    # file would slow the first minutes of whatever runs next (every commit's fsync queues
    # behind it).
    with Path(_sqlite_path(database_url)).open("rb") as written:
        os.fsync(written.fileno())
    return total


async def _seed_postgresql(
    database_url: str, intakes: Iterator[tuple[Any, ...]], rows: _Rows
) -> int:
    url = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    total = 0
    try:
        async with connection.transaction():
            for batch in _batches(intakes, BATCH):
                await connection.copy_records_to_table(
                    "intake", records=batch, columns=_columns(Intake.__table__)
                )
                await connection.copy_records_to_table(
                    "red_flag", records=rows.flags, columns=_columns(RedFlag.__table__)
                )
                await connection.copy_records_to_table(
                    "status_change", records=rows.changes, columns=_columns(StatusChange.__table__)
                )
                rows.flags.clear()
                rows.changes.clear()
                total += len(batch)
        # What autovacuum would have done by the time a clinic has this much history.
        await connection.execute("VACUUM ANALYZE intake, red_flag, status_change")
        # Everything on disk before anything is measured on it.
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()
    return total


def seed(
    database_url: str,
    count: int,
    today_open: int = 100,
    *,
    days: int = 900,
    history_share: float = 0.1,
    now: datetime | None = None,
    timezone: ZoneInfo | None = None,
    random_seed: int = 9,
) -> SeedReport:
    """Store `count` intakes (at least today's queue) in the migrated database at the URL."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    clinic = Clinic.load(get_settings())
    if timezone is not None:
        clinic = Clinic(**{**clinic.__dict__, "timezone": timezone})
    rng = random.Random(random_seed)
    dialect = _dialect(database_url)
    rows = _Rows(clinic, dialect, clinic.today(now), rng, history_share)
    planned = planned_intakes(clinic, count, today_open, days, now, rng)
    intakes = (
        rows.intake(at, status, level, acknowledged=acknowledged)
        for at, status, level, acknowledged in planned
    )
    if dialect.name == "sqlite":
        total = _seed_sqlite(database_url, intakes, rows)
    else:
        total = asyncio.run(_seed_postgresql(database_url, intakes, rows))
    return SeedReport(
        database_url=make_url(database_url).render_as_string(hide_password=True),
        intakes=total,
        red_flags=rows.flag_total,
        status_changes=rows.change_total,
        today_open=min(count, today_open),
        seconds=round(time.perf_counter() - started, 1),
        counts=dict(sorted(rows.counts.items())),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "database_url", help="a migrated database: sqlite:///... or postgresql://..."
    )
    parser.add_argument("count", type=int, help="how many intakes to store")
    parser.add_argument("--today-open", type=int, default=100)
    parser.add_argument("--days", type=int, default=900, help="days of history before today")
    options = parser.parse_args(argv)
    report = seed(options.database_url, options.count, options.today_open, days=options.days)
    print(
        f"seeded {report.intakes:,} intakes ({report.red_flags:,} red flags, "
        f"{report.status_changes:,} status changes; today's open queue {report.today_open}) "
        f"in {report.seconds} s; statuses {report.counts}"
    )


if __name__ == "__main__":
    main()
