"""The doctor's PDF over HTTP: a real PDF, an ETag, and exactly one audit event per read."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.app import create_app
from service.models import AuditEvent
from service.settings import get_settings
from tests.databases import in_database
from tests.patients import intake_body
from tests.staff.support import Client, as_caller, callers


async def summary_reads(url: URL, intake_id: str) -> list[AuditEvent]:
    return await in_database(  # type: ignore[return-value]
        url,
        select(AuditEvent).where(
            AuditEvent.intake_id == UUID(intake_id), AuditEvent.action == "intake.summary_viewed"
        ),
    )


async def test_a_doctor_reads_the_pdf_and_exactly_one_event_records_who_what_when(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    created = await client.post(
        "/api/v1/intakes", json=intake_body(urination_pain=True, concern_details="<b>my words</b>")
    )
    intake_id = created.json()["id"]
    path = f"/api/v1/intakes/{intake_id}/summary.pdf"
    response = await as_caller(client, who["doctor"], "GET", path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    etag = response.headers["etag"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert created.json()["reference"] in text
    assert "<b>my words</b>" in text
    [event] = await summary_reads(database_url, intake_id)
    assert event.actor_kind == "staff"
    assert event.actor_id
    assert event.occurred_at is not None

    again = await as_caller(client, who["doctor"], "GET", path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert len(await summary_reads(database_url, intake_id)) == 2  # a conditional read is a read

    override = await as_caller(
        client,
        who["doctor"],
        "POST",
        f"/api/v1/intakes/{intake_id}/priority",
        json={"priority": "urgent", "reason": "Called: worse today"},
    )
    assert override.status_code == 200
    changed = await as_caller(client, who["doctor"], "GET", path, headers={"If-None-Match": etag})
    assert changed.status_code == 200  # a new revision, a new ETag
    assert changed.headers["etag"] != etag


async def cached_pdfs(var_dir: Path, wait: float) -> list[Path]:
    """The summaries cached under `var_dir`, once there are some or after `wait` seconds."""
    deadline = time.monotonic() + wait
    while not (found := sorted((var_dir / "summaries").rglob("*.pdf"))):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return found


async def test_a_new_intake_is_prerendered_so_the_doctors_first_open_is_cached(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Said here, not left to the default: a test run may turn prerendering off for speed.
    monkeypatch.setenv("SUMMARY_PRERENDER", "true")
    get_settings.cache_clear()
    async with AsyncTestClient(app=create_app()) as client:
        created = await client.post("/api/v1/intakes", json=intake_body(urination_pain=True))
        assert created.status_code == 201, created.text
        assert len(await cached_pdfs(Path(service_env["VAR_DIR"]), wait=60)) == 1


async def test_with_prerender_off_the_summary_is_made_when_first_asked_for(
    service_env: dict[str, str], database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARY_PRERENDER", "false")
    get_settings.cache_clear()
    var_dir = Path(service_env["VAR_DIR"])
    async with AsyncTestClient(app=create_app()) as client:
        who = await callers(client, database_url)
        created = await client.post("/api/v1/intakes", json=intake_body(urination_pain=True))
        assert created.status_code == 201, created.text
        assert await cached_pdfs(var_dir, wait=3) == []
        path = f"/api/v1/intakes/{created.json()['id']}/summary.pdf"
        response = await as_caller(client, who["doctor"], "GET", path)
        assert response.status_code == 200, response.text
        assert len(await cached_pdfs(var_dir, wait=0)) == 1
