"""Two worker processes, as a client meets them: one rate limit (counted in Redis), a sign-out
on one worker refused at once on the other (the database holds the sessions), and each
worker's lifespans and PDF summaries working."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.patients import intake_body
from tests.server import LiveServer, clients_on_each_worker
from tests.staff.support import PASSWORD, make_staff


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


def _csrf_field(page: httpx.Response) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF field in {page.request.url.path}"
    return match.group(1)


@pytest.mark.postgresql
def test_a_sign_out_on_one_worker_is_refused_at_once_on_the_other(
    two_workers: Callable[..., LiveServer], database_url: URL
) -> None:
    asyncio.run(make_staff(database_url))
    server = two_workers()
    here, there = clients_on_each_worker(server, 2)
    try:
        login = here.get("/staff/login")
        signed_in = here.post(
            "/staff/login",
            data={
                "email": "reception@clinic.test",
                "password": PASSWORD,
                "_csrf_token": _csrf_field(login),
                "next": "/staff/queue",
            },
        )
        assert signed_in.status_code == 303, signed_in.text
        saved = httpx.Cookies(here.cookies)  # what a copied cookie jar would hold
        there.cookies = httpx.Cookies(saved)
        assert there.get("/api/v1/queue").status_code == 200
        queue_page = here.get("/staff/queue")
        signed_out = here.post("/staff/logout", data={"_csrf_token": _csrf_field(queue_page)})
        assert signed_out.status_code == 303, signed_out.text
        there.cookies = httpx.Cookies(saved)
        api = there.get("/api/v1/queue")
        page = there.get("/staff/queue")
    finally:
        here.close()
        there.close()
    assert api.status_code == 401
    assert page.status_code == 303
    assert page.headers["location"].startswith("/staff/login")
