"""PostgreSQL unreachable: clear answers everywhere, nothing half-written, recovery by itself.

A real server reaches PostgreSQL through a TCP proxy that the test cuts and restores.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from service.models import Intake, StatusChange
from tests.counting import count_rows
from tests.databases import BACKEND
from tests.patients import intake_body
from tests.server import LiveServer, live_server
from tests.staff.support import make_staff
from tests.tcp_proxy import tcp_proxy
from tests.web.test_intake_form import form_fields

HIDDEN = re.compile(r'name="(_csrf_token|submission_key|form_language)" value="([^"]*)"')


def _open_form(patient: httpx.Client) -> dict[str, str]:
    page = patient.get("/?lang=ml")
    assert page.status_code == 200
    return dict(HIDDEN.findall(page.text))


def _check_refusals_while_down(server: LiveServer, token: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as patient:
        hidden = _open_form(patient)

        health = patient.get("/health")
        assert health.status_code == 503
        assert health.json()["database"] == "unavailable"

        api = patient.post("/api/v1/intakes", json=intake_body(full_name="Outage Patient"))
        assert api.status_code == 503, api.text
        assert api.headers["content-type"].startswith("application/problem+json")
        assert "retry-after" in api.headers
        problem = api.json()
        assert problem["status"] == 503
        assert "Outage Patient" not in api.text
        for leak in ("Traceback", "SELECT", "INSERT", "asyncpg", "sqlalchemy"):
            assert leak not in api.text

        queue = patient.get("/api/v1/queue", headers={"authorization": f"Bearer {token}"})
        assert queue.status_code == 503, queue.text
        assert queue.headers["content-type"].startswith("application/problem+json")

        fields = form_fields(full_name="രോഗി ഔട്ടേജ്", concern_details="എന്റെ വാക്കുകൾ")
        form = patient.post("/", data={**hidden, **fields}, follow_redirects=False)
        assert form.status_code == 503
        assert 'id="not-saved"' in form.text
        assert 'lang="ml"' in form.text
        assert "എന്റെ വാക്കുകൾ" in form.text
        assert 'value="രോഗി ഔട്ടേജ്"' in form.text


@pytest.mark.postgresql
def test_an_unreachable_database_gets_clear_answers_and_the_service_recovers(
    database_url: URL, service_env: dict[str, str], tmp_path: Path
) -> None:
    assert BACKEND == "postgresql"
    token = asyncio.run(make_staff(database_url))["reception-token"]
    with tcp_proxy(database_url.host or "127.0.0.1", database_url.port or 5432) as proxy:
        through_proxy = database_url.set(host="127.0.0.1", port=proxy.port)
        env = {**service_env, "DATABASE_URL": through_proxy.render_as_string(hide_password=False)}
        with live_server(env, tmp_path / "server.log") as server:
            first = httpx.post(f"{server.base_url}/api/v1/intakes", json=intake_body(), timeout=30)
            assert first.status_code == 201, first.text

            proxy.stop()
            _check_refusals_while_down(server, token)

            proxy.start()
            with httpx.Client(base_url=server.base_url, timeout=30) as patient:
                again = patient.post("/api/v1/intakes", json=intake_body())
                assert again.status_code == 201, again.text
                hidden = _open_form(patient)
                form = patient.post("/", data={**hidden, **form_fields()}, follow_redirects=False)
                assert form.status_code == 303, form.text
                queue = patient.get("/api/v1/queue", headers={"authorization": f"Bearer {token}"})
                assert queue.status_code == 200
                assert len(queue.json()) == 3
        log = server.log()
    # Three intakes, each whole: no row from the refused attempts, no intake without history.
    counts = asyncio.run(count_rows(database_url))
    assert counts[Intake.__tablename__] == 3
    assert counts[StatusChange.__tablename__] == 3
    assert "Traceback" not in log
