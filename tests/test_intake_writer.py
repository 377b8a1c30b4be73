"""Group commit: intakes submitted together share commits, each stored whole and durably."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.intake import Accepted, IntakeWriter, SubmitOutcome, submit_intake
from service.intake import writer as writer_module
from service.models import AuditEvent, Intake
from service.settings import get_settings
from tests.counting import count_rows
from tests.databases import BACKEND
from tests.patients import intake_body, patient_json
from tests.web.test_intake_form import form_fields, open_form, send
from tests.webhooks.support import Database, database

pytestmark = pytest.mark.database


async def _submit(
    db: Database, writer: IntakeWriter, number: int, key: str | None = None
) -> SubmitOutcome:
    """One request, as the app makes it."""
    clinic = Clinic.load(get_settings())
    return await submit_intake(
        db.session,
        clinic,
        language="en",
        raw_answers=patient_json(full_name=f"Patient {number}"),
        now=datetime.now(UTC),
        idempotency_key=key,
        writer=writer,
    )


async def test_intakes_submitted_together_share_commits_and_each_is_stored_whole(
    service_env: dict[str, str], database_url: URL
) -> None:
    async with database() as db, IntakeWriter(db.session) as writer:
        outcomes = await asyncio.gather(*(_submit(db, writer, n) for n in range(40)))
        commits = writer.commits
    accepted = [outcome for outcome in outcomes if isinstance(outcome, Accepted)]
    assert len(accepted) == 40
    assert not any(outcome.replayed for outcome in accepted)
    assert len({outcome.intake.reference for outcome in accepted}) == 40
    # Shared: far fewer commits than intakes (the first one alone, then the rest in batches).
    assert commits <= 10, commits
    rows = await count_rows(database_url)
    assert rows["intake"] == 40
    assert rows["status_change"] == 40
    assert rows["outbox_event"] == 40
    async with database() as db, db.session() as session:
        audited = set(
            await session.scalars(
                select(AuditEvent.intake_id).where(AuditEvent.action == "intake.submitted")
            )
        )
        answers = list(await session.scalars(select(Intake.answers)))
    assert audited == {outcome.intake.id for outcome in accepted}
    assert {str(stored["full_name"]) for stored in answers} == {f"Patient {n}" for n in range(40)}


async def test_references_taken_by_stored_intakes_or_by_the_batch_are_replaced(
    service_env: dict[str, str], database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database() as db, IntakeWriter(db.session) as writer:
        first = await _submit(db, writer, 0)
        assert isinstance(first, Accepted)
        taken = first.intake.reference
        # Every new submission asks for the stored reference; the writer draws fresh ones.
        fresh = (f"{n:03d}-AAA" for n in itertools.count())
        monkeypatch.setattr("service.intake.submit.new_reference", lambda: taken)
        monkeypatch.setattr(writer_module, "new_reference", lambda: next(fresh))
        outcomes = await asyncio.gather(*(_submit(db, writer, n) for n in range(1, 9)))
    references = [o.intake.reference for o in outcomes if isinstance(o, Accepted)]
    assert len(references) == 8
    assert taken not in references
    assert len(set(references)) == 8
    assert (await count_rows(database_url))["intake"] == 9


class GatedSessions:
    """The test database's sessions, the writer's first one held until `release()`: what is
    submitted meanwhile waits, and goes into the next transaction together."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.opened = 0
        self.holding = asyncio.Event()
        self.gate = asyncio.Event()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        if self.opened == 1:
            self.holding.set()
            await self.gate.wait()
        async with self.db.session() as session:
            yield session


async def _queued(writer: IntakeWriter, count: int) -> None:
    while writer._waiting.qsize() < count:  # noqa: ASYNC110 - the writer's queue has no event
        await asyncio.sleep(0.01)


async def _held_then_queued(
    db: Database,
    sessions: GatedSessions,
    writer: IntakeWriter,
    batch: list[Coroutine[Any, Any, SubmitOutcome]],
    *,
    return_exceptions: bool = False,
) -> tuple[asyncio.Task[SubmitOutcome], asyncio.Future[list[Any]]]:
    """Submit a first intake and hold the writer in its transaction, then submit `batch` and
    wait until all of it is queued: once the gate opens, the batch goes into one transaction."""
    first = asyncio.create_task(_submit(db, writer, 0))
    await sessions.holding.wait()
    queued = asyncio.gather(*batch, return_exceptions=return_exceptions)
    await _queued(writer, len(batch))
    return first, queued


async def test_a_submission_that_cannot_be_stored_fails_alone_and_the_writer_goes_on(
    service_env: dict[str, str], database_url: URL
) -> None:
    """Two requests with one idempotency key in one batch: the batch's commit fails on the
    unique key; stored one by one, the first is stored, the second answers as its replay."""
    async with database() as db:
        sessions = GatedSessions(db)
        async with IntakeWriter(sessions) as writer:
            # The first holds the writer; seven wait together.
            first, others = await _held_then_queued(
                db,
                sessions,
                writer,
                [
                    *(_submit(db, writer, n) for n in range(1, 6)),
                    _submit(db, writer, 99, key="same-key"),
                    _submit(db, writer, 99, key="same-key"),
                ],
            )
            sessions.gate.set()
            await first
            outcomes = await others
            after = await _submit(db, writer, 100)
            commits = writer.commits
    # The first alone; the batch of seven failed, then six stored one by one; the last.
    assert sessions.opened == 1 + 1 + 7 + 1
    assert commits == 1 + 6 + 1
    accepted = [outcome for outcome in outcomes if isinstance(outcome, Accepted)]
    assert len(accepted) == 7
    keyed = accepted[-2:]
    assert sorted(outcome.replayed for outcome in keyed) == [False, True]
    assert keyed[0].intake.id == keyed[1].intake.id
    assert isinstance(after, Accepted)
    assert not after.replayed
    rows = await count_rows(database_url)
    assert rows["intake"] == 1 + 5 + 1 + 1
    # Each stored once, with its own history and events, whatever the retries.
    assert rows["status_change"] == rows["intake"]
    assert rows["outbox_event"] == rows["intake"]
    async with database() as db, db.session() as session:
        submitted = list(
            await session.scalars(
                select(AuditEvent.intake_id).where(AuditEvent.action == "intake.submitted")
            )
        )
    assert len(submitted) == len(set(submitted)) == rows["intake"]


@pytest.mark.skipif(BACKEND != "sqlite", reason="holds SQLite's write lock")
async def test_a_database_that_cannot_be_written_fails_the_batch_once_not_each_intake(
    service_env: dict[str, str], database_url: URL
) -> None:
    """Another connection holds the write lock: every submitter of the batch gets the error
    from one attempt (one by one, each would wait the busy timeout in turn), nothing is
    stored, and once the lock is gone the writer stores again."""
    assert database_url.database is not None
    holder = sqlite3.connect(database_url.database, isolation_level=None)
    try:
        async with database() as db:
            sessions = GatedSessions(db)
            async with IntakeWriter(sessions) as writer:
                first, batch = await _held_then_queued(
                    db,
                    sessions,
                    writer,
                    [_submit(db, writer, n) for n in range(1, 5)],
                    return_exceptions=True,
                )
                holder.execute("BEGIN IMMEDIATE")  # another process writing, for too long
                sessions.gate.set()
                failed = [*await asyncio.gather(first, return_exceptions=True), *await batch]
                holder.execute("ROLLBACK")
                after = await _submit(db, writer, 100)
    finally:
        holder.close()
    assert all(isinstance(outcome, OperationalError) for outcome in failed), failed
    assert sessions.opened == 1 + 1 + 1  # the first alone, the batch once, the last
    assert isinstance(after, Accepted)
    assert (await count_rows(database_url))["intake"] == 1


@pytest.mark.skipif(BACKEND != "sqlite", reason="holds SQLite's write lock")
async def test_a_submission_waits_for_another_writer_rather_than_failing_at_once(
    service_env: dict[str, str], database_url: URL
) -> None:
    """The writer reads (the reference check) before it writes. On SQLite that read runs
    outside the write transaction, so the write waits its turn behind another connection's
    (the busy timeout) and succeeds once that commits. Were the read inside the transaction,
    the other connection's commit would make the write fail at once, with nothing to retry."""
    assert database_url.database is not None
    holder = sqlite3.connect(database_url.database, isolation_level=None, check_same_thread=False)
    try:
        async with database() as db, IntakeWriter(db.session) as writer:
            async with db.session() as session:  # the app's first connection turns on WAL
                await session.execute(text("SELECT 1"))
            holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
            holder.execute("DELETE FROM audit_event WHERE 0")
            release = asyncio.get_running_loop().call_later(1.0, holder.execute, "COMMIT")
            started = asyncio.get_running_loop().time()
            outcome = await _submit(db, writer, 0)
            waited = asyncio.get_running_loop().time() - started
            release.cancel()
    finally:
        holder.close()
    assert isinstance(outcome, Accepted)
    assert waited >= 0.9, "it was written while the other connection held the lock"
    assert (await count_rows(database_url))["intake"] == 1


async def test_a_writer_that_is_not_running_refuses_rather_than_losing_the_intake(
    service_env: dict[str, str], database_url: URL
) -> None:
    async with database() as db:
        writer = IntakeWriter(db.session)
        with pytest.raises(RuntimeError, match="not running"):
            await _submit(db, writer, 0)
    assert (await count_rows(database_url))["intake"] == 0


async def test_the_api_and_the_form_store_through_the_app_s_writer(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    # The writer the handlers are given: the one their `submissions` dependency holds.
    writer = app.dependencies["submissions"].dependency().writer
    response = await client.post("/api/v1/intakes", json=intake_body())
    assert response.status_code == 201, response.text
    assert writer.commits == 1
    hidden = await open_form(client)
    response = await send(client, hidden, form_fields())
    assert response.status_code == 303, response.text
    assert writer.commits == 2
