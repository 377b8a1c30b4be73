"""Group commit: intakes submitted at the same moment share one transaction and one disk flush.

A durable commit waits for the disk (an fsync), and SQLite commits one writer at a time, so a
commit per intake spends a transaction, a flush and a hand-off to the database's thread on each.
The writer takes every intake waiting when it starts a transaction, stores them together (one
INSERT per table for the whole batch, from the rows of `NewIntake`: no ORM unit of work), and
commits once. Each submitter waits for the commit that holds its intake, so an
acknowledged intake is on disk exactly as with a commit of its own: durability is unchanged.

When a shared commit fails on a constraint, the writer stores the same intakes again one per
transaction, so one submission that cannot be stored (an idempotency key a concurrent request
took first, say) fails alone. Any other failure (a database that is down or locked) fails the
whole batch at once: retried one by one, each would wait out the database's timeout again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import structlog
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service import audit
from service.intake import outbox
from service.intake.new import NewIntake
from service.models import Intake, RedFlag, StatusChange, new_reference

log = structlog.get_logger(__name__)

# Enough to absorb a burst of 128 connections in two commits; bounded so one transaction (and
# the time every submitter in it waits) stays short.
MAX_BATCH = 64

Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]


_INSERT_INTAKES = insert(Intake)
_TRY_AGAIN = frozenset({"40P01", "40001"})  # PostgreSQL: deadlock detected, serialization failure
_INSERT_RED_FLAGS = insert(RedFlag)
_INSERT_STATUS_CHANGES = insert(StatusChange)


@dataclass
class _Waiting:
    intake: NewIntake
    audited: audit.Event
    stored: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class IntakeWriter:
    """Stores new intakes in shared transactions; `store` returns once the intake is committed."""

    def __init__(self, sessions: Sessions, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._waiting: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.commits = 0
        """Transactions committed so far (for tests and benchmarks)."""

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name="intake-writer")
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        # Intakes already handed over are stored before the writer stops; no new ones come.
        self._closing = True
        await self._waiting.join()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def store(self, intake: NewIntake, audited: audit.Event) -> None:
        """Store `intake` durably, with its red flags, its first status, its `intake.created`
        outbox event (and live notice) and the audit event `audited`, in one transaction.

        Raises what the commit raised, e.g. IntegrityError for an idempotency key that a
        concurrent request stored first, or the database's error when it is down.
        """
        if self._task is None or self._task.done() or self._closing:
            raise RuntimeError("the intake writer is not running")
        waiting = _Waiting(intake, audited)
        self._waiting.put_nowait(waiting)
        # The commit goes ahead even if this request is cancelled: the patient may be told.
        await asyncio.shield(waiting.stored)

    async def _run(self) -> None:
        while True:
            batch = [await self._waiting.get()]
            while len(batch) < self._max_batch and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            try:
                await self._write(batch)
            except Exception as error:  # noqa: BLE001 - never leave a submitter waiting, never stop
                # The class only: a database error's text can quote the answers.
                log.error("intake writer failed", error=type(error).__name__)  # noqa: TRY400
                for waiting in batch:
                    if not waiting.stored.done():
                        waiting.stored.set_exception(error)
            finally:
                for _ in batch:
                    self._waiting.task_done()

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            await self._commit_again_on_deadlock(batch)
        except Exception as error:  # noqa: BLE001 - each submitter gets what its commit raised
            if len(batch) == 1 or not isinstance(error, IntegrityError):
                for waiting in batch:
                    waiting.stored.set_exception(error)
                return
            for waiting in batch:
                try:
                    await self._commit_again_on_deadlock([waiting])
                except Exception as alone:  # noqa: BLE001 - it is handed to its submitter
                    waiting.stored.set_exception(alone)
                else:
                    waiting.stored.set_result(None)
            return
        for waiting in batch:
            waiting.stored.set_result(None)

    async def _commit_again_on_deadlock(self, batch: list[_Waiting]) -> None:
        """PostgreSQL aborts one of two transactions that wait on each other (a deadlock, or a
        serialization failure): that one is tried once more, as a fresh transaction."""
        try:
            await self._commit(batch)
        except DBAPIError as error:
            sqlstate = getattr(error.orig, "sqlstate", None)
            if sqlstate not in _TRY_AGAIN:
                raise
            log.warning("intake writer tries a batch again", sqlstate=sqlstate)
            await self._commit(batch)

    async def _commit(self, batch: list[_Waiting]) -> None:
        async with self._sessions() as session:
            try:
                connection = await session.connection()
                intakes = [waiting.intake for waiting in batch]
                await _give_unused_references(connection, intakes)
                await _insert(connection, batch, intakes)
                outbox.record_new_intakes(session, intakes)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        self.commits += 1


async def _insert(
    connection: AsyncConnection, batch: list[_Waiting], intakes: list[NewIntake]
) -> None:
    """Every row of the batch (`intakes` are its intakes), one statement per table (an
    executemany).

    Intakes go in by day and level: the order of the dashboard's tally rows their trigger
    updates (migration 0006), so writers in several server processes (PostgreSQL) lock those
    rows, the busiest ones, in one order. Each intake's red flags keep their rule-set order (the
    order they are shown in); two batches can then still lock two rules' tally rows in opposite
    orders, and a deadlock costs the batch one more try (`_commit_again_on_deadlock`)."""
    in_order = sorted(intakes, key=lambda intake: (intake.submitted_day, intake.priority.rank))
    statements: list[tuple[Any, list[dict[str, Any]]]] = [
        (_INSERT_INTAKES, [intake.row() for intake in in_order]),
        (_INSERT_RED_FLAGS, [row for intake in in_order for row in intake.red_flag_rows()]),
        (_INSERT_STATUS_CHANGES, [intake.status_row() for intake in intakes]),
        (
            audit.INSERT,
            [
                row
                for waiting in batch
                for row in audit.rows([waiting.audited], waiting.intake.submitted_at)
            ],
        ),
        (outbox.INSERT, outbox.new_intake_rows(intakes)),
    ]
    for statement, rows in statements:
        if rows:
            await connection.execute(statement, rows)


async def _give_unused_references(connection: AsyncConnection, intakes: list[NewIntake]) -> None:
    """Make every reference one that no stored intake and no other intake of the batch has.

    One indexed query for the whole batch; a reference taken between this query and the commit
    fails the commit on the unique index, and the retry alone picks again.
    """
    while True:
        wanted = [intake.reference for intake in intakes]
        taken = set(
            await connection.scalars(select(Intake.reference).where(Intake.reference.in_(wanted)))
        )
        seen: set[str] = set()
        clashes = 0
        for intake in intakes:
            if intake.reference in taken or intake.reference in seen:
                intake.reference = new_reference()
                clashes += 1
            seen.add(intake.reference)
        if not clashes:
            return
