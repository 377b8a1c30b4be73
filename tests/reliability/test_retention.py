"""`purge --older-than DAYS` and `erase REFERENCE`: intakes and PDFs go, the audit trail stays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.engine import URL

from service.models import AuditEvent, Intake, OutboxEvent
from tests.commands import cli
from tests.counting import count_rows
from tests.databases import in_database
from tests.patients import intake_body
from tests.staff.support import make_staff

Client = AsyncTestClient[Litestar]


async def _age(url: URL, intake_id: str, days: int) -> None:
    await in_database(
        url,
        update(Intake)
        .where(Intake.id == UUID(intake_id))
        .values(submitted_at=datetime.now(UTC) - timedelta(days=days)),
    )


async def _audit(url: URL) -> list[tuple[str, UUID | None]]:
    rows = await in_database(
        url, select(AuditEvent.action, AuditEvent.intake_id).order_by(AuditEvent.id)
    )
    return [(action, intake_id) for action, intake_id in rows]


async def _events_about(url: URL) -> list[str]:
    """The intake ids the outbox's webhook events are about."""
    rows = await in_database(url, select(OutboxEvent.payload))
    return [str(payload["id"]) for (payload,) in rows]


async def _intake_with_pdf(client: Client, token: str, **changes: object) -> dict[str, str]:
    created = await client.post("/api/v1/intakes", json=intake_body(**changes))
    assert created.status_code == 201
    intake: dict[str, str] = created.json()
    headers = {"authorization": f"Bearer {token}"}
    for _ in range(120):
        pdf = await client.get(f"/api/v1/intakes/{intake['id']}/summary.pdf", headers=headers)
        if pdf.status_code == 200:
            return intake
        await asyncio.sleep(0.5)
    raise AssertionError("the summary never rendered")


async def test_purge_deletes_old_intakes_and_their_pdfs_and_keeps_the_audit_trail(
    client: Client, database_url: URL, service_env: dict[str, str]
) -> None:
    token = (await make_staff(database_url))["doctor-token"]
    old = await _intake_with_pdf(client, token, erection_over_4h=True)  # with a red flag
    older = await _intake_with_pdf(client, token)
    recent = await _intake_with_pdf(client, token)
    await _age(database_url, old["id"], 31)
    await _age(database_url, older["id"], 400)
    summaries = Path(service_env["VAR_DIR"]) / "summaries"
    assert {old["id"], older["id"], recent["id"]} <= {p.name for p in summaries.iterdir()}
    before = await _audit(database_url)

    result = await asyncio.to_thread(cli, service_env, "purge", "--older-than", "30", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Purged 2 intakes"), result.stdout

    counts = await count_rows(database_url)
    assert counts["intake"] == 1
    assert counts["red_flag"] == 0  # the old intake's flag went with it
    assert counts["status_change"] == 1
    assert counts["outbox_event"] == 1  # only the recent intake's intake.created is left
    assert await _events_about(database_url) == [recent["id"]]
    cached = {p.name for p in summaries.iterdir()}
    assert recent["id"] in cached
    assert not {old["id"], older["id"]} & cached
    after = await _audit(database_url)
    assert after[: len(before)] == before  # every earlier event is still there
    added = after[len(before) :]
    assert sorted((a, str(i)) for a, i in added if i) == sorted(
        [("intake.purged", old["id"]), ("intake.purged", older["id"])]
    )
    assert ("intakes.purged", None) in added
    gone = await client.get(
        f"/api/v1/intakes/{old['id']}", headers={"authorization": f"Bearer {token}"}
    )
    assert gone.status_code == 404


async def test_erase_deletes_one_intake_by_its_reference_as_read_out(
    client: Client, database_url: URL, service_env: dict[str, str]
) -> None:
    token = (await make_staff(database_url))["doctor-token"]
    erased = await _intake_with_pdf(client, token, concern_details="private words")
    kept = await _intake_with_pdf(client, token)
    before = await _audit(database_url)

    typed = erased["reference"].replace("-", "").lower()  # as a patient might read it out
    result = await asyncio.to_thread(cli, service_env, "erase", typed, "--yes")
    assert result.returncode == 0, result.stderr
    assert erased["reference"] in result.stdout

    counts = await count_rows(database_url)
    assert counts["intake"] == 1
    assert await _events_about(database_url) == [kept["id"]]  # no reference left to send
    summaries = Path(service_env["VAR_DIR"]) / "summaries"
    assert {p.name for p in summaries.iterdir() if p.name in {erased["id"], kept["id"]}} == {
        kept["id"]
    }
    after = await _audit(database_url)
    assert after[: len(before)] == before
    assert after[len(before) :] == [("intake.erased", UUID(erased["id"]))]
    headers = {"authorization": f"Bearer {token}"}
    assert (await client.get(f"/api/v1/intakes/{erased['id']}", headers=headers)).status_code == 404
    assert (await client.get(f"/api/v1/intakes/{kept['id']}", headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["erase", "ZZZ-ZZZ", "--yes"], "no intake with reference ZZZ-ZZZ"),
        (["erase", "'; DROP TABLE intake;--", "--yes"], "is not a reference"),
        (["purge", "--older-than", "0", "--yes"], "1 day or more"),
        (["purge", "--older-than", "-5", "--yes"], "1 day or more"),
    ],
)
async def test_bad_input_gets_one_clear_line_and_deletes_nothing(
    client: Client,
    database_url: URL,
    service_env: dict[str, str],
    arguments: list[str],
    expected: str,
) -> None:
    assert (await client.post("/api/v1/intakes", json=intake_body())).status_code == 201
    before = await count_rows(database_url)
    result = await asyncio.to_thread(cli, service_env, *arguments)
    assert result.returncode == 1
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert await count_rows(database_url) == before


async def test_without_yes_nothing_is_deleted_unless_confirmed(
    client: Client, database_url: URL, service_env: dict[str, str]
) -> None:
    created = await client.post("/api/v1/intakes", json=intake_body())
    reference = created.json()["reference"]
    refused = await asyncio.to_thread(cli, service_env, "erase", reference)  # stdin: no answer
    assert refused.returncode != 0
    assert (await count_rows(database_url))["intake"] == 1
