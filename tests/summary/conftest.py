"""Summary fixtures: intakes stored through the API and loaded back as the PDF endpoint would."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import selectinload

from service.intake import Clinic
from service.models import Intake
from service.settings import async_database_url, get_settings
from service.summary import Summary, summary_of
from tests.patients import intake_body

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
async def sessions(database_url: URL) -> AsyncIterator[Sessions]:
    url = database_url.render_as_string(hide_password=False)
    engine = create_async_engine(async_database_url(url))
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


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
def store_intake(client: AsyncTestClient[Litestar], sessions: Sessions) -> StoreIntake:
    """Submit answers through `POST /api/v1/intakes`; return the stored intake."""

    async def store(language: str = "en", **answers: object) -> Intake:
        response = await client.post("/api/v1/intakes", json=intake_body(language, **answers))
        assert response.status_code == 201, response.text
        return await load_intake(sessions, UUID(response.json()["id"]))

    return store


@pytest.fixture
def summarize(store_intake: StoreIntake, clinic: Clinic) -> Callable[..., Awaitable[Summary]]:
    async def summarize(language: str = "en", **answers: object) -> Summary:
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
