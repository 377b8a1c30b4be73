"""`python -m service backup PATH`: a consistent copy taken while patients submit, restorable."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.commands import cli
from tests.patients import intake_body
from tests.server import live_server
from tests.staff.support import make_staff


def _submit_until(stop: threading.Event, base_url: str, saved: list[dict[str, str]]) -> None:
    number = 0
    with httpx.Client(base_url=base_url, timeout=30) as patient:
        while not stop.is_set():
            number += 1
            body = intake_body(full_name=f"Backed-up patient {number}")
            response = patient.post("/api/v1/intakes", json=body)
            assert response.status_code == 201, response.text
            saved.append(response.json())


def test_a_backup_taken_under_load_restores_every_intake_acknowledged_before_it(
    service_env: dict[str, str], database_url: URL, tmp_path: Path
) -> None:
    if database_url.get_backend_name() != "sqlite":
        refused = cli(service_env, "backup", str(tmp_path / "copy.sqlite3"))
        assert refused.returncode == 1
        assert "pg_dump" in refused.stderr
        assert "Traceback" not in refused.stderr
        return
    token = asyncio.run(make_staff(database_url))["doctor-token"]
    saved: list[dict[str, str]] = []
    stop = threading.Event()
    with live_server(service_env, tmp_path / "server.log") as server:
        patients = threading.Thread(target=_submit_until, args=(stop, server.base_url, saved))
        patients.start()
        long_read = None
        try:
            while len(saved) < 5 and patients.is_alive():
                stop.wait(0.05)
            # A long read (a report, say) holds its snapshot open, so SQLite cannot checkpoint
            # the commits after it into the database file: a plain file copy would miss them.
            long_read = sqlite3.connect(str(database_url.database), isolation_level=None)
            long_read.execute("BEGIN")
            long_read.execute("SELECT count(*) FROM intake").fetchone()
            while len(saved) < 25 and patients.is_alive():
                stop.wait(0.05)
            before = len(saved)
            made = cli(service_env, "backup", str(tmp_path / "backup.sqlite3"))
            after = len(saved)
        finally:
            stop.set()
            patients.join(timeout=60)
            if long_read is not None:
                long_read.close()
    assert before >= 25, "the patients stopped submitting"
    assert made.returncode == 0, made.stderr
    copied = int(made.stdout.split()[2])
    assert before <= copied <= after + 1, (before, copied, after)

    # Restore: the copy becomes the database of a new server, which serves what was saved.
    restored = tmp_path / "restored" / "clinic.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(tmp_path / "backup.sqlite3", restored)
    with sqlite3.connect(restored) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    env = {**service_env, "DATABASE_URL": f"sqlite:///{restored}", "VAR_DIR": str(tmp_path / "r")}
    doctor = {"authorization": f"Bearer {token}"}
    with (
        live_server(env, tmp_path / "restored.log") as server,
        httpx.Client(base_url=server.base_url, headers=doctor, timeout=30) as client,
    ):
        for intake in saved[:before]:
            found = client.get(f"/api/v1/intakes/{intake['id']}")
            assert found.status_code == 200, found.text
            assert found.json()["reference"] == intake["reference"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [("exists.sqlite3", "already exists"), ("no-such-folder/copy.sqlite3", "is not a folder")],
)
def test_a_backup_refuses_a_bad_target_with_one_line(
    service_env: dict[str, str], database_url: URL, tmp_path: Path, target: str, expected: str
) -> None:
    if database_url.get_backend_name() != "sqlite":
        expected = "pg_dump"  # on PostgreSQL the command refuses before looking at the target
    (tmp_path / "exists.sqlite3").write_text("keep me")
    result = cli(service_env, "backup", str(tmp_path / target))
    assert result.returncode == 1
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (tmp_path / "exists.sqlite3").read_text() == "keep me"
