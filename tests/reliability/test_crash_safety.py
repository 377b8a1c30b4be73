"""A server killed mid-burst loses no acknowledged intake, and retries make no duplicates.

The real server runs as its own process. Many patients submit at once, each with an
`Idempotency-Key`; once a third of them have been told "saved" (201) the server gets SIGKILL,
with requests still in flight. After a restart every 201 is there, intact, and sending every
request again with its key stores each intake exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from service.models import Intake
from tests.databases import in_database
from tests.patients import intake_body
from tests.server import LiveServer, live_server, start_server
from tests.staff.support import make_staff

PATIENTS = 240
KILL_AFTER = PATIENTS // 3
SENDERS = 16


def _body(number: int) -> dict[str, object]:
    """Varied patients: both languages, some with red flags, each with its own words."""
    language = "ml" if number % 3 == 0 else "en"
    changes: dict[str, object] = {
        "full_name": f"രോഗി {number}" if language == "ml" else f"Patient {number}",
        "concern_details": f"Words of patient {number}: ഇത് എന്റെ വാക്കുകൾ",
        "birth_date": f"{1950 + number % 50}-0{1 + number % 9}-1{number % 10}",
    }
    if number % 5 == 0:
        changes["erection_over_4h"] = True
    if number % 7 == 0:
        changes["fever"] = True
    return intake_body(language, **changes)


def _key(number: int) -> str:
    return f"crash-test-{number:04d}"


def _stored_intakes(url: URL) -> int:
    [(total,)] = asyncio.run(in_database(url, select(func.count()).select_from(Intake)))
    return int(total)


def _burst_then_kill(server: LiveServer) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """Send every patient at once; SIGKILL the server once KILL_AFTER were acknowledged."""
    answered: dict[int, httpx.Response] = {}
    lost: set[int] = set()
    lock = threading.Lock()
    enough = threading.Event()

    def send(number: int) -> None:
        try:
            response = patients.post(
                "/api/v1/intakes", json=_body(number), headers={"Idempotency-Key": _key(number)}
            )
        except httpx.TransportError:
            with lock:
                lost.add(number)
            return
        with lock:
            answered[number] = response
            if sum(r.status_code == 201 for r in answered.values()) >= KILL_AFTER:
                enough.set()

    # One client for every patient (concurrent requests each take a connection of its pool):
    # a new client per request spends more time loading its TLS context than sending.
    with (
        httpx.Client(base_url=server.base_url, timeout=30) as patients,
        ThreadPoolExecutor(SENDERS) as senders,
    ):
        for number in range(PATIENTS):
            senders.submit(send, number)
        assert enough.wait(timeout=120), f"only {len(answered)} intakes answered"
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)

    # Before the kill, nothing but 201s: a refused intake here would be a bug of its own.
    assert {response.status_code for response in answered.values()} == {201}
    return {number: response.json() for number, response in answered.items()}, lost


def test_acknowledged_intakes_survive_sigkill_and_retries_make_no_duplicates(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    doctor_token = asyncio.run(make_staff(database_url))["doctor-token"]
    server = start_server(service_env, tmp_path / "first.log")
    assert server.process.poll() is None, server.log()

    saved, lost = _burst_then_kill(server)
    # The kill came mid-burst: some patients were told "saved", others got no answer.
    assert len(saved) >= KILL_AFTER
    assert lost, "the kill came after every request was answered; nothing was tested"
    assert len(saved) + len(lost) == PATIENTS

    with (
        live_server(service_env, tmp_path / "second.log") as restarted,
        httpx.Client(base_url=restarted.base_url, timeout=30) as client,
    ):
        doctor = {"authorization": f"Bearer {doctor_token}"}
        for number, first in saved.items():
            stored = client.get(f"/api/v1/intakes/{first['id']}", headers=doctor)
            assert stored.status_code == 200, (number, stored.text)
            intake = stored.json()
            sent = _body(number)
            assert intake["reference"] == first["reference"]
            assert intake["priority"] == first["priority"]
            assert intake["language"] == sent["language"]
            answers = sent["answers"]
            assert isinstance(answers, dict)
            for link_id in ("full_name", "concern_details", "birth_date", "erection_over_4h"):
                assert intake["answers"][link_id] == answers[link_id], (number, link_id)

        # Every patient tries again with the same key: the saved ones get their first answer
        # back, the lost ones are stored now, and nobody is stored twice.
        for number in range(PATIENTS):
            again = client.post(
                "/api/v1/intakes", json=_body(number), headers={"Idempotency-Key": _key(number)}
            )
            assert again.status_code == 201, (number, again.text)
            if number in saved:
                assert again.json()["id"] == saved[number]["id"]
                assert again.json()["reference"] == saved[number]["reference"]

    assert _stored_intakes(database_url) == PATIENTS
    assert "Traceback" not in (tmp_path / "second.log").read_text(errors="replace")
