"""No health data in the logs, at any log level, through a whole patient-to-doctor flow.

A real server process logs at DEBUG (what an operator turns on when something is wrong) while
patients submit through the API and the form (one of them with mistakes), reception works the
queue and downloads its CSV, a doctor reads, downloads and overrides, and webhooks are
delivered to a receiver that fails at first. Every line must be structured JSON, every
request line carries a request id, and no name, phone, email, date of birth, free text or
override reason appears anywhere in the output.
"""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.commands import cli
from tests.patients import intake_body
from tests.server import LiveServer, live_server
from tests.staff.support import PASSWORD, make_staff
from tests.waiting import eventually_blocking
from tests.web.test_intake_form import form_fields
from tests.webhooks.receiver import running_receiver

NAME = "Zorbulon Quimby"
MALAYALAM_NAME = "സോർബുലോൺ ക്വിംബി"
PHONE = "91234 56789"
EMAIL = "zorbulon.q@example.org"
BIRTH_DATE = "1961-03-14"
# Each marker is long and has letters no request id (hex), timestamp or pid has, so a log line
# can hold one only by leaking it: a bare 4-digit marker turned up in random request ids.
CONCERN_MARKER = "qzvkconcernwyxj"
CONCERN = f"marker-{CONCERN_MARKER} ചോർച്ച private words"
MEDICINES = "marker-medicine-qzvkmedwyxj"
REASON = "marker-override-reason-qzvkwhywyxj"
SECRETS = [NAME, MALAYALAM_NAME, PHONE, "9123456789", EMAIL, BIRTH_DATE, CONCERN, CONCERN_MARKER]
SECRETS += [MEDICINES, REASON, "ചോർച്ച", "Zorbulon", "Quimby"]


def _answers(**changes: object) -> dict[str, object]:
    return {
        "full_name": NAME,
        "phone": PHONE,
        "email": EMAIL,
        "birth_date": BIRTH_DATE,
        "concern_details": CONCERN,
        "takes_medicines": True,
        "medicines_list": MEDICINES,
        "antidepressant": False,
        "symptoms_after_new_medicine": False,
        **changes,
    }


def _staff_session(server: LiveServer, email: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=30)
    page = client.get("/staff/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    signed_in = client.post(
        "/staff/login",
        data={"email": email, "password": PASSWORD, "_csrf_token": token.group(1)},
    )
    assert signed_in.status_code in {200, 303}, signed_in.text
    return client


def _patient_flow(server: LiveServer) -> str:
    """Patients submit through the API and the form; returns the emergency intake's id."""
    with httpx.Client(base_url=server.base_url, timeout=30) as patient:
        wrong = patient.post(
            "/api/v1/intakes",
            json=intake_body("en", **_answers(phone=f"{PHONE} call me", birth_date="1961-02-30")),
        )
        assert wrong.status_code == 422, wrong.text
        created = patient.post(
            "/api/v1/intakes", json=intake_body("en", **_answers(erection_over_4h=True))
        )
        assert created.status_code == 201, created.text
        form = patient.get("/?lang=ml")
        hidden = dict(
            re.findall(
                r'name="(_csrf_token|submission_key|form_language)" value="([^"]*)"', form.text
            )
        )
        fields = form_fields(**_answers(full_name=MALAYALAM_NAME))
        mistaken = patient.post("/", data={**hidden, **fields, "birth_date": "not a date"})
        assert mistaken.status_code == 422, mistaken.status_code
        sent = patient.post("/", data={**hidden, **fields})
        assert sent.status_code in {200, 303}, sent.text
        return str(created.json()["id"])


def _staff_flow(server: LiveServer, tokens: dict[str, str], intake_id: str) -> None:
    api = f"/api/v1/intakes/{intake_id}"
    reception = {"authorization": f"Bearer {tokens['reception-token']}"}
    doctor = {"authorization": f"Bearer {tokens['doctor-token']}"}
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        assert client.get("/api/v1/queue", headers=reception).status_code == 200
        called = client.post(f"{api}/status", json={"status": "called"}, headers=reception)
        assert called.status_code == 200, called.text
        assert client.get(api, headers=doctor).status_code == 200
        assert client.get(f"{api}/fhir", headers=doctor).status_code == 200

        def rendered() -> httpx.Response | None:
            pdf = client.get(f"{api}/summary.pdf", headers=doctor)
            return None if pdf.status_code == 503 else pdf  # 503: still rendering

        pdf = eventually_blocking(rendered, within=60, what="the summary rendered")
        assert pdf.status_code == 200
        override = client.post(
            f"{api}/priority", json={"priority": "urgent", "reason": REASON}, headers=doctor
        )
        assert override.status_code == 200, override.text
        export = client.get("/api/v1/queue.csv", headers=reception)
        assert export.status_code == 200
        assert NAME in export.text
    with closing(_staff_session(server, "doctor@clinic.test")) as pages:
        assert NAME in pages.get(f"/staff/intakes/{intake_id}").text
        assert NAME in pages.get("/staff/queue").text
    with closing(_staff_session(server, "admin@clinic.test")) as pages:
        assert pages.get("/staff/audit").status_code == 200


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_a_whole_flow_logs_no_health_data(
    service_env: dict[str, str], database_url: URL, tmp_path: Path, level: str
) -> None:
    tokens = asyncio.run(make_staff(database_url))
    log_path = tmp_path / "server.log"
    env = {
        **service_env,
        "LOG_LEVEL": level,
        "WEBHOOK_WORKER": "true",
        "WEBHOOK_BACKOFF_SECONDS": "0.05",
    }
    with running_receiver() as receiver:
        # The EHR's receiver fails its first requests: deliveries, failures and retries all log.
        receiver.answer(500, 500, 503)
        added = cli(env, "webhooks", "add", receiver.url, "--event", "intake.created")
        assert added.returncode == 0, added.stderr
        with live_server(env, log_path) as server:
            intake_id = _patient_flow(server)
            _staff_flow(server, tokens, intake_id)
            receiver.wait_for(lambda r: len(r.delivered_ids()) == 2)
    output = log_path.read_text(encoding="utf-8", errors="replace")

    leaks = [secret for secret in SECRETS if secret in output]
    assert not leaks, f"health data in the log: {leaks}"
    # The check above means something only if the log saw the flow: one JSON line per request.
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [record for record in records if record.get("event") == "request"]
    assert len(requests) >= 15, len(requests)
    assert all(re.fullmatch(r"[0-9a-f]{32}", record["request_id"]) for record in requests)
    assert len({record["request_id"] for record in requests}) == len(requests)
    retries = [r for r in records if r.get("event") == "webhook delivery failed; will retry"]
    assert len(retries) == 3, "the worker's failed deliveries should have been logged"
    assert {"/api/v1/intakes", "/api/v1/intakes/{intake_id}"} <= {
        record["route"] for record in requests
    }
    # Nothing but JSON lines: uvicorn's own lines go through the same formatter. Known
    # exception: at exit, multiprocessing's resource tracker (a process of its own, outside our
    # logging) may warn about the render pool's semaphores; they carry no data.
    stray = [
        line
        for line in output.splitlines()
        if line and not line.startswith("{") and "resource_tracker" not in line
    ]
    assert not stray, stray[:5]
