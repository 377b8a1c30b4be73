"""Re-triage of stored intakes after a rule change, and a doctor's override beside it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from service import audit
from service.clinic import Clinic
from service.intake.override import OverrideError, override_priority
from service.intake.retriage import retriage_open_intakes
from service.models import AuditEvent, Intake
from service.queue import Status
from service.settings import get_settings
from service.triage import Priority
from tests.commands import Finished, cli
from tests.patients import intake_body
from tests.rule_files import rule_file, urinary_made_urgent

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


async def _submit(client: AsyncTestClient[Litestar], **answers: object) -> str:
    response = await client.post("/api/v1/intakes", json=intake_body(**answers))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _intake(sessions: async_sessionmaker[AsyncSession], intake_id: str) -> Intake:
    async with sessions() as session:
        statement = (
            select(Intake)
            .where(Intake.id == UUID(intake_id))
            .options(selectinload(Intake.red_flags))
        )
        return (await session.scalars(statement)).one()


async def _audit(sessions: async_sessionmaker[AsyncSession], action: str) -> list[AuditEvent]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


async def test_retriage_applies_a_new_rule_version_keeps_history_and_is_safe_to_repeat(
    client: AsyncTestClient[Litestar],
    database_url: URL,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    urinary = await _submit(client, urination_pain=True)
    calm = await _submit(client)
    finished = await _submit(client, urination_difficulty=True)
    async with sessions() as session:
        done = await session.get(Intake, UUID(finished))
        assert done is not None
        done.status = Status.DONE.value
        await session.commit()

    monkeypatch.setenv("RULE_SET_FILE", str(rule_file(tmp_path, urinary_made_urgent())))
    get_settings.cache_clear()
    clinic = Clinic.load(get_settings())
    assert clinic.rule_set.version == 2

    async with sessions() as session:
        report = await retriage_open_intakes(session, clinic, NOW)
    assert (report.examined, report.reevaluated, report.level_changed) == (2, 2, 1)

    changed = await _intake(sessions, urinary)
    assert (changed.computed_priority, changed.rule_set_version, changed.revision) == (
        "urgent",
        2,
        2,
    )
    assert changed.queue_rank == Priority.URGENT.rank
    history = sorted(
        (f.rule_set_version, f.level, f.superseded_at is None) for f in changed.red_flags
    )
    assert history == [(1, "soon", False), (2, "urgent", True)]
    # The calm intake moved to version 2 without a level change: no audit event for it.
    assert (await _intake(sessions, calm)).rule_set_version == 2
    # A finished visit is not re-triaged.
    untouched = await _intake(sessions, finished)
    assert (untouched.rule_set_version, untouched.computed_priority) == (1, "soon")

    [event] = await _audit(sessions, "intake.retriaged")
    assert str(event.intake_id) == urinary
    assert event.detail["from_priority"] == "soon"
    assert event.detail["to_priority"] == "urgent"

    async with sessions() as session:
        again = await retriage_open_intakes(session, clinic, NOW)
    assert (again.examined, again.reevaluated, again.level_changed) == (2, 0, 0)
    assert len(await _audit(sessions, "intake.retriaged")) == 1
    assert len((await _intake(sessions, urinary)).red_flags) == 2


async def test_an_override_sits_beside_the_computed_level_and_survives_retriage(
    client: AsyncTestClient[Litestar],
    database_url: URL,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    intake_id = await _submit(client, urination_pain=True)
    async with sessions() as session:
        intake = await session.get(Intake, UUID(intake_id))
        assert intake is not None
        with pytest.raises(OverrideError, match="reason"):
            await override_priority(
                session,
                intake,
                Priority.EMERGENCY,
                "   ",
                actor=audit.Actor("staff", "doc"),
                staff_user_id=None,
                now=NOW,
            )
        await override_priority(
            session,
            intake,
            Priority.ROUTINE,
            "Known, stable; seen last week",
            actor=audit.Actor("staff", "doc"),
            staff_user_id=None,
            now=NOW,
        )
        await session.commit()
    stored = await _intake(sessions, intake_id)
    assert (stored.computed_priority, stored.override_priority) == ("soon", "routine")
    assert stored.priority is Priority.ROUTINE
    assert stored.queue_rank == Priority.ROUTINE.rank
    [event] = await _audit(sessions, "intake.priority_overridden")
    assert event.detail == {
        "from_priority": "soon",
        "to_priority": "routine",
        "computed_priority": "soon",
    }
    assert "stable" not in repr(event.detail)  # the reason stays on the intake, not in the log

    monkeypatch.setenv("RULE_SET_FILE", str(rule_file(tmp_path, urinary_made_urgent())))
    get_settings.cache_clear()
    async with sessions() as session:
        await retriage_open_intakes(session, Clinic.load(get_settings()), NOW)
    after = await _intake(sessions, intake_id)
    assert (after.computed_priority, after.override_priority) == ("urgent", "routine")
    assert after.queue_rank == Priority.ROUTINE.rank  # the doctor's word still orders the queue


async def test_the_retriage_command_reports_and_can_run_twice(
    client: AsyncTestClient[Litestar], service_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **service_env,
        "RULE_SET_FILE": str(rule_file(tmp_path, urinary_made_urgent())),
    }

    def run() -> Finished:
        return cli(env, "retriage")

    await _submit(client, urination_pain=True)
    first = await asyncio.to_thread(run)
    second = await asyncio.to_thread(run)
    assert first.returncode == 0, first.stderr
    assert "1 open intakes examined, 1 re-evaluated, 1 changed level." in first.stdout
    assert "Re-triaging open intakes" in first.stderr
    assert second.returncode == 0, second.stderr
    assert "1 open intakes examined, 0 re-evaluated, 0 changed level." in second.stdout
