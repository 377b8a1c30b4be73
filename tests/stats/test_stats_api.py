"""`GET /api/v1/stats` on a known history: every figure, exactly, on SQLite and PostgreSQL.

The history is made with the service's own actions at chosen times (submission, moves along the
queue, a doctor's override, a re-triage under a changed rule set), in the clinic's time zone
(Asia/Kolkata), across two midnights, with an intake on each side of the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import case, func, select
from sqlalchemy.engine import URL

from service import audit
from service.clinic import Clinic
from service.intake import Accepted, IntakeWriter, submit_intake
from service.intake.override import override_priority
from service.intake.retriage import retriage_open_intakes
from service.intake.status import change_status
from service.models import AuditEvent, Intake, IntakeTally, RedFlag, RedFlagTally
from service.queue import Status
from service.retention import erase_intake, purge_intakes
from service.settings import get_settings
from service.staff import Principal, Role
from service.stats import Waited, figures
from service.triage import Priority
from tests.databases import in_database
from tests.patients import patient_json
from tests.rule_files import rule_file, urinary_made_urgent
from tests.staff.support import Client, as_caller, callers
from tests.webhooks.support import database

pytestmark = pytest.mark.database

IST = ZoneInfo("Asia/Kolkata")
DOCTOR = Principal("token", None, Role.DOCTOR, "doctor")


@dataclass
class Planned:
    """One intake of the history: when (clinic time), what answers, what happened to it."""

    at: datetime
    answers: dict[str, object]
    # (status, seconds after submission), in order
    moves: list[tuple[Status, int]] = field(default_factory=list)
    override: Priority | None = None


def seen_at(seconds: int, then: Status | None = None) -> list[tuple[Status, int]]:
    """Called, arrived, with the doctor `seconds` after submission (and then `then`)."""
    steps = [(Status.CALLED, 60), (Status.ARRIVED, 120), (Status.WITH_DOCTOR, seconds)]
    return steps + ([(then, seconds + 600)] if then else [])


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


PRIAPISM = {"erection_over_4h": True}
STI = {"urethral_discharge": True}
URINARY = {"urination_difficulty": True}
LUMP = {"testicular_lump": True}
HISTORY = [
    Planned(ist("2026-11-09T23:50:00"), PRIAPISM, seen_at(60, Status.DONE)),  # the day before
    Planned(ist("2026-11-10T09:00:00"), PRIAPISM, seen_at(270, Status.DONE)),  # 4.5 min
    Planned(ist("2026-11-10T10:00:00"), PRIAPISM, seen_at(370, Status.DONE)),  # over 5 min
    Planned(ist("2026-11-10T23:59:30"), {}),  # routine, still new: open, never seen
    Planned(ist("2026-11-11T00:00:30"), STI, [(Status.CALLED, 600), (Status.NO_SHOW, 7200)]),
    Planned(ist("2026-11-11T12:00:00"), URINARY, [(Status.CALLED, 300)]),  # re-triaged urgent
    # soon, overridden to urgent; seen after 90 minutes: over the urgent hour
    Planned(ist("2026-11-11T13:00:00"), LUMP, seen_at(5400, Status.DONE), Priority.URGENT),
    Planned(ist("2026-11-12T08:00:00"), {}, seen_at(28_799, Status.DONE)),  # a second under 8 h
    Planned(ist("2026-11-12T09:00:00"), {}, [(Status.CANCELLED, 60)]),
    Planned(ist("2026-11-12T23:59:59"), LUMP, seen_at(14_460)),  # 241 min, still with doctor
    Planned(ist("2026-11-13T00:10:00"), {}),  # the day after
]


async def make_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clinic = Clinic.load(get_settings())
    async with database() as db:
        for planned in HISTORY:
            submitted = planned.at.astimezone(UTC)
            async with IntakeWriter(db.session) as writer:
                outcome = await submit_intake(
                    db.session,
                    clinic,
                    language="en",
                    raw_answers=patient_json(**planned.answers),
                    now=submitted,
                    writer=writer,
                )
            assert isinstance(outcome, Accepted)
            async with db.session() as session:
                intake = await session.get(Intake, outcome.intake.id)
                assert intake is not None
                if planned.override:
                    await override_priority(
                        session,
                        intake,
                        planned.override,
                        "Lump found hard on examination",
                        actor=DOCTOR.actor,
                        staff_user_id=None,
                        now=submitted + timedelta(minutes=5),
                    )
                for status, after in planned.moves:
                    moved_at = submitted + timedelta(seconds=after)
                    await change_status(session, intake, status, DOCTOR, moved_at)
                await session.commit()
        # Version 2 of the rules raises difficult urination to urgent: the open intakes are
        # re-triaged and their earlier flags superseded.
        monkeypatch.setenv("RULE_SET_FILE", str(rule_file(tmp_path, urinary_made_urgent())))
        get_settings.cache_clear()
        changed = Clinic.load(get_settings())
        async with db.session() as session:
            report = await retriage_open_intakes(session, changed, datetime.now(UTC))
            assert report.level_changed == 1
        monkeypatch.delenv("RULE_SET_FILE")
        get_settings.cache_clear()


def zeros(**levels: int) -> dict[str, int]:
    return {level.value: levels.get(level.value, 0) for level in Priority}


EXPECTED: dict[str, Any] = {
    "from": "2026-11-10",
    "to": "2026-11-12",
    "timezone": "Asia/Kolkata",
    "intakes": {"total": 9, "by_priority": zeros(emergency=2, urgent=3, soon=1, routine=3)},
    "outcomes": {"done": 4, "no_show": 1, "cancelled": 1, "open": 3},
    "seen": {
        # 270 s and 370 s: 4 and 6 whole minutes
        "emergency": {"count": 2, "median_minutes": 5.0, "p90_minutes": 5.8, "over_threshold": 1},
        "urgent": {"count": 1, "median_minutes": 90.0, "p90_minutes": 90.0, "over_threshold": 1},
        "soon": {"count": 1, "median_minutes": 241.0, "p90_minutes": 241.0, "over_threshold": 1},
        "routine": {
            "count": 1,
            "median_minutes": 479.0,
            "p90_minutes": 479.0,
            "over_threshold": 0,
        },
    },
    "days": [
        {"date": "2026-11-10", "total": 3, "by_priority": zeros(emergency=2, routine=1)},
        {"date": "2026-11-11", "total": 3, "by_priority": zeros(urgent=3)},
        {"date": "2026-11-12", "total": 3, "by_priority": zeros(soon=1, routine=2)},
    ],
}
FIRED = {"RF-PRIAPISM": 2, "RF-STI": 1, "RF-URINARY": 1, "RF-TESTICULAR-LUMP": 2}


async def test_every_figure_of_a_known_history(
    client: Client, database_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = await callers(client, database_url)
    await make_history(tmp_path, monkeypatch)
    answered = await as_caller(
        client, who["doctor"], "GET", "/api/v1/stats?from=2026-11-10&to=2026-11-12"
    )
    assert answered.status_code == 200, answered.text
    figures = answered.json()
    red_flags = figures.pop("red_flags")
    assert figures == EXPECTED
    rules = [rule.id for rule in Clinic.load(get_settings()).rule_set.rules]
    assert list(red_flags) == rules  # every rule, in the rule set's order, fired or not
    assert {rule: count for rule, count in red_flags.items() if count} == FIRED
    # One day, and the day after the range: only their own intakes.
    one_day = await as_caller(
        client, who["admin"], "GET", "/api/v1/stats?from=2026-11-11&to=2026-11-11"
    )
    assert one_day.json()["intakes"]["by_priority"] == zeros(urgent=3)
    assert one_day.json()["outcomes"] == {"done": 1, "no_show": 1, "cancelled": 0, "open": 1}
    after = await as_caller(
        client, who["admin"], "GET", "/api/v1/stats?from=2026-11-13&to=2026-11-13"
    )
    assert after.json()["intakes"]["total"] == 1
    # Each read is on the audit trail, with its range.
    reads = await in_database(
        database_url,
        select(AuditEvent.detail)
        .where(AuditEvent.action == "stats.viewed")
        .order_by(AuditEvent.id),
    )
    assert [detail["days"] for (detail,) in reads] == [
        "2026-11-10/2026-11-12",
        "2026-11-11/2026-11-11",
        "2026-11-13/2026-11-13",
    ]


async def test_the_default_range_is_the_last_30_days(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)
    created = await client.post(
        "/api/v1/intakes", json={"language": "en", "answers": patient_json()}
    )
    assert created.status_code == 201
    figures = (await as_caller(client, who["doctor"], "GET", "/api/v1/stats")).json()
    today = Clinic.load(get_settings()).today(datetime.now(UTC))
    assert figures["to"] == today.isoformat()
    assert figures["from"] == (today - timedelta(days=29)).isoformat()
    assert len(figures["days"]) == 30
    assert figures["days"][-1]["by_priority"]["routine"] == 1
    assert figures["seen"]["routine"] == {
        "count": 0,
        "median_minutes": None,
        "p90_minutes": None,
        "over_threshold": 0,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-11-12&to=2026-11-10", "from"),  # reversed
        ("from=2025-01-01&to=2026-01-02", "to"),  # 367 days: 366 is the most
        ("from=2026-02-30", "from"),  # no such day
        ("to=yesterday", "to"),
    ],
)
async def test_a_reversed_too_long_or_unreadable_range_is_422(
    client: Client, database_url: URL, query: str, field: str
) -> None:
    who = await callers(client, database_url)
    answered = await as_caller(client, who["doctor"], "GET", f"/api/v1/stats?{query}")
    assert answered.status_code == 422, answered.text
    assert [error["field"] for error in answered.json()["errors"]] == [field]
    longest = await as_caller(
        client, who["doctor"], "GET", "/api/v1/stats?from=2025-01-01&to=2026-01-01"
    )
    assert longest.status_code == 200
    assert len(longest.json()["days"]) == 366


async def test_doctors_and_admins_only(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)
    for caller, status in [
        ("doctor", 200),
        ("admin", 200),
        ("doctor-token", 200),
        ("reception", 403),
        ("reception-token", 403),
        ("anonymous", 401),
    ]:
        answered = await as_caller(client, who[caller], "GET", "/api/v1/stats")
        assert answered.status_code == status, caller


async def recount(url: URL) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The tallies as they should be, counted again from the intakes and red flags."""
    minute = case((Intake.seen_after_seconds.is_(None), -1), else_=Intake.seen_after_seconds // 60)
    intakes = await in_database(
        url,
        select(Intake.submitted_day, Intake.queue_rank, Intake.status, minute, func.count())
        .group_by(Intake.submitted_day, Intake.queue_rank, Intake.status, minute)
        .order_by(Intake.submitted_day, Intake.queue_rank, Intake.status, minute),
    )
    flags = await in_database(
        url,
        select(Intake.submitted_day, RedFlag.rule_id, func.count())
        .join(Intake, Intake.id == RedFlag.intake_id)
        .where(RedFlag.superseded_at.is_(None))
        .group_by(Intake.submitted_day, RedFlag.rule_id)
        .order_by(Intake.submitted_day, RedFlag.rule_id),
    )
    return [tuple(row) for row in intakes], [tuple(row) for row in flags]


async def tallies(url: URL) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The tallies the triggers kept, without the emptied ones."""
    t, f = IntakeTally, RedFlagTally
    intakes = await in_database(
        url,
        select(t.day, t.queue_rank, t.status, t.seen_minute, t.intakes)
        .where(t.intakes != 0)
        .order_by(t.day, t.queue_rank, t.status, t.seen_minute),
    )
    flags = await in_database(
        url, select(f.day, f.rule_id, f.flags).where(f.flags != 0).order_by(f.day, f.rule_id)
    )
    return [tuple(row) for row in intakes], [tuple(row) for row in flags]


async def test_the_tallies_are_a_recount_after_every_kind_of_change(
    service_env: dict[str, str], database_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submissions, moves, an override, a re-triage, then an erasure and a purge: the tallies
    the database triggers keep are what counting the intakes again gives."""
    await make_history(tmp_path, monkeypatch)
    counted = await recount(database_url)
    assert counted[0]
    assert counted[1]
    assert await tallies(database_url) == counted
    async with database() as db, db.session() as session:
        await erase_intake(session, await _reference_of(session, HISTORY[6]), audit.SYSTEM)
        purged = await purge_intakes(session, ist("2026-11-10T12:00:00"), audit.SYSTEM)
        await session.commit()
    assert len(purged) == 3
    counted = await recount(database_url)
    assert await tallies(database_url) == counted
    assert sum(row[-1] for row in counted[0]) == len(HISTORY) - 4


async def _reference_of(session: Any, planned: Planned) -> str:
    at = planned.at.astimezone(UTC)
    reference: str = await session.scalar(select(Intake.reference).where(Intake.submitted_at == at))
    return reference


def test_a_wait_is_over_its_threshold_once_it_reached_it() -> None:
    """As the queue marks a long wait: whole minutes at least the setting (5:00 to 5:59 of an
    emergency is over 5 minutes; 4:59 is not)."""
    waited = [Waited(0, 4, 1), Waited(0, 5, 2), Waited(0, 6, 1)]
    day = date(2026, 11, 10)
    document = figures(day, day, "Asia/Kolkata", [], waited, {}, [], LONG_WAITS)
    assert document["seen"]["emergency"] == {
        "count": 4,
        "median_minutes": 5.0,
        "p90_minutes": 5.7,
        "over_threshold": 3,
    }


LONG_WAITS = {"emergency": 5, "urgent": 60, "soon": 240, "routine": 480}
