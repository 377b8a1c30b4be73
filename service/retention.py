"""Retention and erasure: intakes deleted for good, the audit trail kept (it holds ids only).

Deleting an intake deletes its red flags and status history with it (foreign keys cascade),
and its webhook events with their deliveries and attempts: an erased intake's reference, level
and times must not stay in the outbox, nor be sent after the erasure. A purge also deletes
every outbox event older than its cutoff (the outbox would otherwise only grow). The audit trail
keeps every earlier event, which name the intake by id only, and gains one of its own.
Cached summary PDFs are deleted after the database commit (a failed transaction must not lose a
PDF of an intake that is still there); then the PDFs of any intake that no longer exists are
swept, so one left by a crash, or rendered by a server while the intake was being erased, goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.models import Intake, OutboxEvent
from service.summary import SummaryCache

_BATCH = 500
_REFERENCE = re.compile(r"[A-Z0-9]{3}-?[A-Z0-9]{3}")


class RetentionError(Exception):
    """Nothing was deleted; the message says why."""


def normalised_reference(typed: str) -> str:
    """`k7m4qx`, ` K7M-4QX ` -> `K7M-4QX`, as a patient might read it out to reception."""
    reference = typed.strip().upper()
    if not _REFERENCE.fullmatch(reference):
        raise RetentionError(f"{typed!r} is not a reference (like K7M-4QX)")
    return reference if "-" in reference else f"{reference[:3]}-{reference[3:]}"


async def erase_intake(session: AsyncSession, reference: str, actor: audit.Actor) -> UUID:
    """Delete one patient's intake on request; returns its id. The caller commits."""
    wanted = normalised_reference(reference)
    intake_id = await session.scalar(select(Intake.id).where(Intake.reference == wanted))
    if intake_id is None:
        raise RetentionError(f"no intake with reference {wanted}")
    await session.execute(delete(Intake).where(Intake.id == intake_id))
    await _delete_events_of(session, [intake_id])
    audit.record(session, actor, "intake.erased", intake_id)
    return intake_id


async def purge_intakes(
    session: AsyncSession, submitted_before: datetime, actor: audit.Actor
) -> Sequence[UUID]:
    """Delete every intake submitted before the cutoff, whatever its status. The caller commits."""
    found = await session.scalars(select(Intake.id).where(Intake.submitted_at < submitted_before))
    intake_ids = list(found)
    for chunk in _batches(intake_ids, _BATCH):
        await session.execute(delete(Intake).where(Intake.id.in_(chunk)))
        for intake_id in chunk:
            audit.record(session, actor, "intake.purged", intake_id)
    await _delete_events_of(session, intake_ids)
    await session.execute(delete(OutboxEvent).where(OutboxEvent.created_at < submitted_before))
    audit.record(
        session,
        actor,
        "intakes.purged",
        count=len(intake_ids),
        submitted_before=submitted_before.isoformat(),
    )
    return intake_ids


async def _delete_events_of(session: AsyncSession, intake_ids: Sequence[UUID]) -> None:
    """Delete the webhook events about these intakes (their deliveries and attempts cascade)."""
    about = OutboxEvent.payload["id"].as_string()
    for chunk in _batches(intake_ids, _BATCH):
        await session.execute(delete(OutboxEvent).where(about.in_([str(i) for i in chunk])))


def _batches(items: Iterable[UUID], size: int) -> Iterator[list[UUID]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def sweep_summaries(session: AsyncSession, cache: SummaryCache) -> int:
    """Delete cached PDFs whose intake no longer exists; returns how many intakes' PDFs went."""
    if not cache.directory.is_dir():
        return 0
    cached: dict[UUID, str] = {}
    for folder in cache.directory.iterdir():
        try:
            cached[UUID(folder.name)] = folder.name
        except ValueError:
            continue  # not an intake's folder (the workers' fonts, a stray file)
    kept: set[UUID] = set()
    for chunk in _batches(cached, _BATCH):
        kept.update(await session.scalars(select(Intake.id).where(Intake.id.in_(chunk))))
    gone = [name for intake_id, name in cached.items() if intake_id not in kept]
    for name in gone:
        cache.forget(name)
    return len(gone)
