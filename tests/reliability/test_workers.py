"""Two worker processes, as a client meets them: one rate limit (counted in Redis), and each
worker's lifespans and PDF summaries working."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy.engine import URL

from tests.patients import intake_body
from tests.server import LiveServer, clients_on_each_worker
from tests.staff.support import make_staff


@pytest.mark.postgresql
def test_a_rate_limit_counts_across_both_workers(
    two_workers: Callable[..., LiveServer],
) -> None:
    server = two_workers(INTAKE_RATE_LIMIT_PER_MINUTE="2")
    first, second = clients_on_each_worker(server, 2)
    try:
        statuses = [
            client.post("/api/v1/intakes", json=intake_body()).status_code
            for client in (first, second, first, second)
        ]
    finally:
        first.close()
        second.close()
    # Two intakes a minute for the address: each worker counting alone would allow four.
    assert statuses == [201, 201, 429, 429]


@pytest.mark.postgresql
def test_both_workers_serve_pdf_summaries(
    two_workers: Callable[..., LiveServer], database_url: URL
) -> None:
    token = asyncio.run(make_staff(database_url))["doctor-token"]
    server = two_workers(SUMMARY_WORKERS="1")
    clients = clients_on_each_worker(server, 2)
    try:
        intake_id = clients[0].post("/api/v1/intakes", json=intake_body()).json()["id"]
        pdfs = [
            client.get(
                f"/api/v1/intakes/{intake_id}/summary.pdf",
                headers={"Authorization": f"Bearer {token}"},
            )
            for client in clients
        ]
    finally:
        for client in clients:
            client.close()
    assert [(pdf.status_code, pdf.content[:5]) for pdf in pdfs] == [(200, b"%PDF-")] * 2
