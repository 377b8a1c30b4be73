"""Staff sign-in: a generic message, lockout, rate limit, cookie flags, audit, sign-out."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.app import create_app
from service.models import AuditEvent
from service.settings import get_settings
from tests.commands import cli
from tests.databases import in_database
from tests.staff.support import PASSWORD, Client, csrf_token, make_staff, sign_in


async def audit_actions(url: URL) -> list[str]:
    rows = await in_database(url, select(AuditEvent.action).order_by(AuditEvent.id))
    return [row[0] for row in rows]


def failure_text(page: str) -> str:
    return page.split('id="login-error"', 1)[1].split("</div>", 1)[0]


async def test_signing_in_opens_the_queue_and_is_audited(client: Client, database_url: URL) -> None:
    await make_staff(database_url)
    response = await sign_in(client, "Doctor@Clinic.test")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/queue"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # not behind HTTPS in this test
    queue = await client.get("/staff/queue")
    assert queue.status_code == 200
    assert "login.succeeded" in await audit_actions(database_url)


async def test_a_wrong_password_and_an_unknown_email_get_the_same_words(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    wrong = await sign_in(client, "doctor@clinic.test", "not the password")
    unknown = await sign_in(client, "nobody@clinic.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert failure_text(wrong.text) == failure_text(unknown.text)
    assert "nobody@clinic.test" not in str(await audit_actions(database_url))
    assert (await audit_actions(database_url)).count("login.failed") == 2
    assert (await client.get("/staff/queue", follow_redirects=False)).status_code == 303


async def test_five_wrong_passwords_lock_the_account_for_a_while(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    for _ in range(5):
        assert (
            await sign_in(client, "reception@clinic.test", "wrong password!")
        ).status_code == 401
    locked = await sign_in(client, "reception@clinic.test", PASSWORD)
    assert locked.status_code == 401  # even the right password waits out the lockout
    assert (await sign_in(client, "doctor@clinic.test", PASSWORD)).status_code == 303


async def test_signing_out_ends_the_session(client: Client, database_url: URL) -> None:
    await make_staff(database_url)
    await sign_in(client, "admin@clinic.test")
    token = await csrf_token(client)
    response = await client.post(
        "/staff/logout", data={"_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    after = await client.get("/staff/queue", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/staff/login")


async def test_sign_in_is_rate_limited(
    service_env: dict[str, str], database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_staff(database_url)
    monkeypatch.setenv("LOGIN_RATE_LIMIT_PER_MINUTE", "3")
    get_settings.cache_clear()
    async with AsyncTestClient(app=create_app()) as client:
        statuses = [
            (await sign_in(client, "doctor@clinic.test", "wrong")).status_code for _ in range(4)
        ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429


async def test_cookies_are_secure_behind_https(
    service_env: dict[str, str], database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_staff(database_url)
    monkeypatch.setenv("BEHIND_HTTPS", "true")
    get_settings.cache_clear()
    async with AsyncTestClient(app=create_app(), base_url="https://testserver.local") as client:
        response = await sign_in(client, "doctor@clinic.test")
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]
        assert "max-age=31536000" in response.headers["strict-transport-security"]


async def test_disable_reset_password_and_revoke_token_commands(
    client: Client, service_env: dict[str, str], database_url: URL
) -> None:
    tokens = await make_staff(database_url)
    disabled = await asyncio.to_thread(cli, service_env, "users", "disable", "doctor@clinic.test")
    assert disabled.returncode == 0, disabled.stderr
    assert (await sign_in(client, "doctor@clinic.test")).status_code == 401

    reset = await asyncio.to_thread(
        cli,
        service_env,
        "users",
        "reset-password",
        "doctor@clinic.test",
        "--password-stdin",
        stdin="a brand new password\n",
    )
    assert reset.returncode == 0, reset.stderr
    assert (await sign_in(client, "doctor@clinic.test", "a brand new password")).status_code == 303

    bearer = {"authorization": f"Bearer {tokens['doctor-token']}"}
    client.cookies.clear()
    assert (await client.get("/api/v1/queue", headers=bearer)).status_code == 200
    revoked = await asyncio.to_thread(cli, service_env, "tokens", "revoke", "doctor system")
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/api/v1/queue", headers=bearer)).status_code == 401

    unknown = await asyncio.to_thread(cli, service_env, "users", "disable", "ghost@clinic.test")
    assert unknown.returncode == 1
    assert "no staff user" in unknown.stderr
    actions = await audit_actions(database_url)
    for action in (
        "staff_user.disabled",
        "staff_user.password_reset",
        "api_token.revoked",
        "token.used",
    ):
        assert action in actions
