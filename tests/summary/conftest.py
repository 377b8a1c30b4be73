"""Summary fixtures: intakes stored by the intake service and loaded back as the PDF endpoint
loads them; a guard that turns any WeasyPrint warning into a failure."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import UUID

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from service.clinic import Clinic
from service.intake import Accepted, IntakeWriter, submit_intake
from service.models import Intake
from service.questionnaire import Language
from service.settings import get_settings
from service.summary import Summary, summary_of
from tests.patients import patient_json

StoreIntake = Callable[..., Awaitable[Intake]]
Sessions = async_sessionmaker[AsyncSession]


@contextmanager
def weasyprint_warnings() -> Iterator[list[logging.LogRecord]]:
    """Every warning WeasyPrint logs in this process meanwhile (missing glyph, refused URL...)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def weasyprint_log() -> Iterator[list[logging.LogRecord]]:
    """A missing glyph, a font that did not load or a refused URL fails the test.

    A test that provokes a warning on purpose asks for this list, checks it, and clears it.
    """
    with weasyprint_warnings() as records:
        yield records
    if records:
        pytest.fail("WeasyPrint warned: " + "; ".join(r.getMessage() for r in records))


@pytest.fixture
def clinic(service_env: dict[str, str]) -> Clinic:
    return Clinic.load(get_settings())


async def load_intake(sessions: Sessions, intake_id: UUID) -> Intake:
    """The intake with what a summary reads, as the PDF endpoint loads it."""
    async with sessions() as session:
        statement = (
            select(Intake)
            .where(Intake.id == intake_id)
            .options(selectinload(Intake.red_flags), selectinload(Intake.status_history))
        )
        return (await session.scalars(statement)).one()


@pytest.fixture
async def writer(sessions: Sessions) -> AsyncIterator[IntakeWriter]:
    """An intake writer on the test's database, as the app runs one."""
    async with IntakeWriter(sessions) as running:
        yield running


@pytest.fixture
def store_intake(sessions: Sessions, writer: IntakeWriter, clinic: Clinic) -> StoreIntake:
    """Submit answers through the intake service (what `POST /api/v1/intakes` calls), and load
    the stored intake back. Not through the app: its own renderer would prerender every one."""

    async def store(language: Language = "en", **answers: object) -> Intake:
        outcome = await submit_intake(
            sessions,
            clinic,
            language=language,
            raw_answers=patient_json(**answers),
            now=datetime.now(UTC),
            writer=writer,
        )
        assert isinstance(outcome, Accepted), outcome
        return await load_intake(sessions, outcome.intake.id)

    return store


@pytest.fixture
def summarize(store_intake: StoreIntake, clinic: Clinic) -> Callable[..., Awaitable[Summary]]:
    async def summarize(language: Language = "en", **answers: object) -> Summary:
        return summary_of(await store_intake(language, **answers), clinic)

    return summarize


def pdf_text(pdf: bytes) -> str:
    """The text of every page, whitespace collapsed (titles may wrap anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def in_order(text: str, *needles: str) -> list[int]:
    """The positions of `needles` in `text`, each found after the one before (or fail)."""
    positions, start = [], 0
    for needle in needles:
        position = text.find(needle, start)
        assert position >= 0, f"{needle!r} not found after position {start}"
        positions.append(position)
        start = position + len(needle)
    return positions
