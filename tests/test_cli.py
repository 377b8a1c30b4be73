"""`python -m service users|tokens ...`: the command line on a real database, one clear line on
errors. The commands run in this process (tests.commands), the entry point also as a real one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from service.models import ApiToken, AuditEvent, StaffUser, WebhookEndpoint
from service.staff import hash_token
from tests.commands import Finished, cli, cli_process
from tests.databases import in_database


def rows(env: dict[str, str], model: type) -> list:  # type: ignore[type-arg]
    return asyncio.run(in_database(env["DATABASE_URL"], select(model)))


def assert_one_clear_line(result: Finished, expected: str) -> None:
    assert result.returncode == 1, result
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_users_create_stores_an_argon2_hash_and_an_audit_event(service_env: dict[str, str]) -> None:
    result = cli(
        service_env,
        "users",
        "create",
        "Doctor@Example.org",
        "--role",
        "doctor",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.returncode == 0, result.stderr
    [user] = rows(service_env, StaffUser)
    assert user.email == "doctor@example.org"
    assert user.role == "doctor"
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in user.password_hash
    [event] = rows(service_env, AuditEvent)
    assert event.action == "staff_user.created"
    assert event.detail == {"user_id": str(user.id), "role": "doctor"}


def test_python_m_service_runs_the_same_commands_as_a_process(service_env: dict[str, str]) -> None:
    create = ["users", "create", "d@example.org", "--role", "doctor", "--password-stdin"]
    created = cli_process(service_env, *create, stdin="a long enough password\n")
    assert created.returncode == 0, created.stderr
    assert created.stdout == "Created doctor user d@example.org.\n"
    assert [user.email for user in rows(service_env, StaffUser)] == ["d@example.org"]
    assert_one_clear_line(
        cli_process(service_env, *create, stdin="a long enough password\n"), "already exists"
    )
    assert len(rows(service_env, StaffUser)) == 1


def test_users_create_prompts_for_the_password_without_stdin(service_env: dict[str, str]) -> None:
    result = cli(
        service_env,
        "users",
        "create",
        "r@example.org",
        "--role",
        "reception",
        stdin="prompted password 1\nprompted password 1\n",
    )
    assert result.returncode == 0, result.stderr
    assert [user.role for user in rows(service_env, StaffUser)] == ["reception"]


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            ["users", "create", "a@example.org", "--role", "nurse", "--password-stdin"],
            "long enough password\n",
            "unknown role 'nurse'",
        ),
        (
            ["users", "create", "not-an-email", "--role", "doctor", "--password-stdin"],
            "long enough password\n",
            "is not an email address",
        ),
        (
            ["users", "create", "a@example.org", "--role", "doctor", "--password-stdin"],
            "short\n",
            "at least 12 characters",
        ),
        (["tokens", "create", "ehr", "--role", "superuser"], "", "unknown role 'superuser'"),
    ],
)
def test_bad_input_gets_one_clear_line_and_stores_nothing(
    service_env: dict[str, str], args: list[str], stdin: str, expected: str
) -> None:
    assert_one_clear_line(cli(service_env, *args, stdin=stdin), expected)
    assert rows(service_env, StaffUser) == []
    assert rows(service_env, ApiToken) == []


STRONG = "correct horse battery\n"
EVENT = ["--event", "intake.created"]


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (
            ["users", "create", "doc\x1btor@example.org", "--role", "doctor", "--password-stdin"],
            STRONG,
        ),
        (
            ["users", "create", "doctor@exam\x85ple.org", "--role", "doctor", "--password-stdin"],
            STRONG,
        ),
        (
            ["users", "create", "doctor@example.org\ufffe", "--role", "doctor", "--password-stdin"],
            STRONG,
        ),
        (["users", "disable", "doctor@example.org\x7f"], ""),
        (["users", "reset-password", "doctor\x1b@example.org", "--password-stdin"], STRONG),
        (["tokens", "create", "clinic\x1b[31m EHR", "--role", "doctor"], ""),
        (["tokens", "create", "clinic\tEHR", "--role", "doctor"], ""),
        (["tokens", "revoke", "clinic EHR\x7f"], ""),
        (["webhooks", "add", "https://ehr.clinic.test/in\x1bx", *EVENT], ""),
        (["webhooks", "add", "https://ehr.clinic\n.test/in", *EVENT], ""),
        (["webhooks", "add", "https://ehr.clinic.test/\tin", *EVENT], ""),
        (["webhooks", "add", "https://ehr.clinic.test/in\uffff", *EVENT], ""),
    ],
)
def test_a_control_character_in_any_input_gets_one_clear_line_and_stores_nothing(
    service_env: dict[str, str], args: list[str], stdin: str
) -> None:
    assert_one_clear_line(cli(service_env, *args, stdin=stdin), "control character")
    assert rows(service_env, StaffUser) == []
    assert rows(service_env, ApiToken) == []
    assert rows(service_env, WebhookEndpoint) == []


@pytest.mark.parametrize(
    ("password", "because"),
    [
        ("password1234", "too easy to guess: This is a very common password."),
        ("roymedicalcentre2026", "too easy to guess"),  # the clinic's name (CLINIC_NAME)
        ("nurse.mary@example.org!", "too easy to guess"),  # the account's own email
    ],
)
def test_a_guessable_password_is_refused_naming_its_weakness(
    service_env: dict[str, str], password: str, because: str
) -> None:
    create = ["users", "create", "nurse.mary@example.org", "--role", "reception"]
    result = cli(service_env, *create, "--password-stdin", stdin=f"{password}\n")
    assert_one_clear_line(result, because)
    assert rows(service_env, StaffUser) == []
    assert cli(service_env, *create, "--password-stdin", stdin=STRONG).returncode == 0
    reset = ["users", "reset-password", "nurse.mary@example.org", "--password-stdin"]
    assert_one_clear_line(cli(service_env, *reset, stdin=f"{password}\n"), because)
    [user] = rows(service_env, StaffUser)
    renewed = cli(service_env, *reset, stdin="amblyopic tractor lagoon\n")
    assert renewed.returncode == 0, renewed.stderr
    [after] = rows(service_env, StaffUser)
    assert after.password_hash != user.password_hash


def test_a_duplicate_user_is_refused(service_env: dict[str, str]) -> None:
    args = ["users", "create", "d@example.org", "--role", "doctor", "--password-stdin"]
    assert cli(service_env, *args, stdin="first password 12\n").returncode == 0
    assert_one_clear_line(cli(service_env, *args, stdin="second password 12\n"), "already exists")
    assert len(rows(service_env, StaffUser)) == 1


def test_tokens_create_prints_the_token_once_as_the_last_line_and_keeps_only_its_hash(
    service_env: dict[str, str],
) -> None:
    result = cli(service_env, "tokens", "create", "clinic EHR", "--role", "doctor")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 40
    [stored] = rows(service_env, ApiToken)
    assert stored.token_hash == hash_token(token)
    assert token not in repr(tuple(stored))
    assert_one_clear_line(
        cli(service_env, "tokens", "create", "clinic EHR", "--role", "admin"), "already exists"
    )


def test_an_unreachable_database_gets_one_clear_line(service_env: dict[str, str]) -> None:
    env = {**service_env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/clinic"}
    result = cli(env, "tokens", "create", "x", "--role", "doctor")
    assert_one_clear_line(result, "cannot reach the database")


def test_an_unmigrated_database_says_what_to_run(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**service_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = cli(env, "tokens", "create", "x", "--role", "doctor")
    assert_one_clear_line(result, "run `alembic upgrade head`")


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("postgresql://clinic@127.0.0.1:5432/clinic", "WORKERS above 1 needs REDIS_URL"),
        ("sqlite:///var/clinic.sqlite3", "WORKERS above 1 needs PostgreSQL"),
    ],
)
def test_serve_refuses_several_workers_that_would_count_limits_apart(
    tmp_path: Path, database_url: str, expected: str
) -> None:
    env = {"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path), "WORKERS": "2"}
    assert_one_clear_line(cli_process(env, "serve", "--port", "1"), expected)
