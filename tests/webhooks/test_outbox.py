"""Events are written in the same transaction as the change: all of them, and only those."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.intake import Accepted, IntakeWriter, SubmitOutcome, submit_intake
from service.intake.outbox import on_commit
from service.intake.override import override_priority
from service.intake.retriage import retriage_open_intakes
from service.intake.status import change_status
from service.models import Intake
from service.queue import Status
from service.settings import get_settings
from service.staff import Principal, Role
from service.triage import Priority
from tests.patients import intake_body, patient_json
from tests.rule_files import rule_file, urinary_made_urgent
from tests.staff.support import Client, as_caller, callers
from tests.webhooks.support import database

MINIMAL_KEYS = {"id", "reference", "priority", "status", "submitted_at"}
DOCTOR = Principal("token", None, Role.DOCTOR, "doctor")


async def test_a_submission_writes_one_minimal_event(client: Client, database_url: URL) -> None:
    body = intake_body(full_name="Arun Kumar", concern_details="a very private detail")
    response = await client.post("/api/v1/intakes", json=body)
    assert response.status_code == 201
    receipt = response.json()
    async with database() as db:
        [event] = await db.events()
    assert event.type == "intake.created"
    assert event.payload == {
        "id": receipt["id"],
        "reference": receipt["reference"],
        "priority": receipt["priority"],
        "status": "new",
        "submitted_at": datetime.fromisoformat(receipt["submitted_at"]).isoformat(),
    }
    assert event.created_at == datetime.fromisoformat(receipt["submitted_at"])


async def test_a_rejected_submission_writes_no_event(client: Client, database_url: URL) -> None:
    response = await client.post("/api/v1/intakes", json=intake_body(consent=False))
    assert response.status_code == 422
    async with database() as db:
        assert await db.events() == []


async def test_a_submission_rolled_back_at_commit_leaves_no_event(
    service_env: dict[str, str], database_url: URL
) -> None:
    """Two submissions with one idempotency key race; the loser's commit fails and rolls back."""
    clinic = Clinic.load(get_settings())
    async with database() as db:

        async def submit(writer: IntakeWriter) -> SubmitOutcome:
            return await submit_intake(
                db.session,
                clinic,
                language="en",
                raw_answers=patient_json(),
                now=datetime.now(UTC),
                idempotency_key="same-key",
                writer=writer,
            )

        rival: list[SubmitOutcome] = []

        @asynccontextmanager
        async def rival_first() -> AsyncIterator[AsyncSession]:
            # Between the loser's key check and its commit (as its writer opens the transaction),
            # a rival request, committed by another writer (another process's), stores the key.
            async with IntakeWriter(db.session) as rival_writer:
                rival.append(await submit(rival_writer))
            async with db.session() as session:
                yield session

        async with IntakeWriter(rival_first) as writer:
            outcome = await submit(writer)
            commits = writer.commits
        events = await db.events()
    [stored] = rival
    assert isinstance(stored, Accepted)
    assert not stored.replayed
    assert commits == 0  # the loser's commit was tried, and failed
    assert isinstance(outcome, Accepted)
    assert outcome.replayed
    assert outcome.intake.id == stored.intake.id
    assert len(events) == 1
    assert events[0].payload["id"] == str(outcome.intake.id)


async def test_a_commit_that_wrote_an_event_wakes_the_worker_and_a_rollback_does_not(
    service_env: dict[str, str], database_url: URL
) -> None:
    woken: list[bool] = []
    stop = on_commit(lambda: woken.append(True))
    try:
        async with database() as db:
            intake = await db.submit()
            assert woken == [True]
            async with db.session() as session:
                stored = await session.get(Intake, intake.id)
                assert stored is not None
                await change_status(session, stored, Status.CALLED, DOCTOR, datetime.now(UTC))
                await session.rollback()
                await session.commit()  # nothing left to commit: no wake-up
            assert woken == [True]
            assert [event.type for event in await db.events()] == ["intake.created"]
    finally:
        stop()


async def test_status_changes_and_overrides_write_events_with_what_they_changed_from(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    created = await client.post("/api/v1/intakes", json=intake_body())
    intake_id = created.json()["id"]
    moved = await as_caller(
        client,
        who["reception"],
        "POST",
        f"/api/v1/intakes/{intake_id}/status",
        json={"status": "called"},
    )
    assert moved.status_code < 300, moved.text
    refused = await as_caller(
        client,
        who["reception"],
        "POST",
        f"/api/v1/intakes/{intake_id}/status",
        json={"status": "done"},
    )
    assert refused.status_code == 409
    for level in ("urgent", "urgent"):  # the second changes nothing: no event
        overridden = await as_caller(
            client,
            who["doctor"],
            "POST",
            f"/api/v1/intakes/{intake_id}/priority",
            json={"priority": level, "reason": "pain worse on the phone"},
        )
        assert overridden.status_code < 300, overridden.text

    async with database() as db:
        events = await db.events()
    assert [event.type for event in events] == [
        "intake.created",
        "intake.status_changed",
        "intake.priority_changed",
    ]
    status_changed, priority_changed = events[1].payload, events[2].payload
    assert status_changed["status"] == "called"
    assert status_changed["previous_status"] == "new"
    assert set(status_changed) == MINIMAL_KEYS | {"previous_status"}
    assert priority_changed["priority"] == "urgent"
    assert priority_changed["previous_priority"] == "routine"
    assert set(priority_changed) == MINIMAL_KEYS | {"previous_priority"}
    for event in events:
        assert event.payload["id"] == intake_id
        assert "pain" not in str(event.payload)


async def test_retriage_writes_an_event_when_the_level_acted_on_changes(
    service_env: dict[str, str],
    database_url: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with database() as db:
        raised = await db.submit(urination_pain=True)
        held = await db.submit(urination_pain=True)
        unchanged = await db.submit()
        async with db.session() as session:
            stored = await session.get(Intake, held.id)
            assert stored is not None
            await override_priority(
                session,
                stored,
                Priority.SOON,
                "seen it",
                actor=DOCTOR.actor,
                staff_user_id=None,
                now=datetime.now(UTC),
            )
            await session.commit()
        before = len(await db.events())

        monkeypatch.setenv("RULE_SET_FILE", str(rule_file(tmp_path, urinary_made_urgent())))
        get_settings.cache_clear()
        clinic = Clinic.load(get_settings())
        async with db.session() as session:
            report = await retriage_open_intakes(session, clinic, datetime.now(UTC))
        assert report.level_changed == 2
        new_events = (await db.events())[before:]

    # The overridden intake stays at its override, so integrations hear nothing of it.
    [event] = new_events
    assert event.type == "intake.priority_changed"
    assert event.payload["id"] == str(raised.id)
    assert event.payload["priority"] == "urgent"
    assert event.payload["previous_priority"] == "soon"
    assert UUID(event.payload["id"]) not in {held.id, unchanged.id}
