"""Staff sessions kept on the server: a cookie saved before any end opens nothing afterwards.

Ends: sign-out, a password reset, `users disable`, `users sign-out-everywhere`, the staff
member's own list, and the idle and absolute limits (moved in the database, not slept for).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import URL

from service.models import AuditEvent, StaffSession, StaffUser
from service.staff.sessions import describe_browser
from tests.commands import cli
from tests.databases import in_database
from tests.staff.support import Client, csrf_token, make_staff, sign_in
from tests.test_cli import assert_one_clear_line

COOKIE = "staff_session"  # over plain HTTP; `__Host-staff_session` behind HTTPS


async def signed_in(client: Client, email: str) -> httpx.Cookies:
    """Sign in afresh (a new browser) and return that browser's cookies."""
    client.cookies.clear()
    response = await sign_in(client, email)
    assert response.status_code == 303, response.text
    return httpx.Cookies(client.cookies)


async def opens(client: Client, cookies: httpx.Cookies) -> tuple[int, int, str]:
    """(API queue status, queue page status, where the page sends the browser)."""
    client.cookies = httpx.Cookies(cookies)
    api = await client.get("/api/v1/queue")
    page = await client.get("/staff/queue", follow_redirects=False)
    return api.status_code, page.status_code, page.headers.get("location", "")


async def post_form(
    client: Client, cookies: httpx.Cookies, path: str, **data: str
) -> httpx.Response:
    client.cookies = httpx.Cookies(cookies)
    token = await csrf_token(client)
    return await client.post(path, data={"_csrf_token": token, **data}, follow_redirects=False)


async def ended(url: URL) -> list[tuple[object, ...]]:
    """(reason, user's email) of every ended session."""
    return await in_database(
        url,
        select(StaffSession.end_reason, StaffUser.email)
        .join(StaffUser, StaffSession.user_id == StaffUser.id)
        .where(StaffSession.ended_at.is_not(None)),
    )


async def end_events(url: URL) -> list[object]:
    rows = await in_database(
        url, select(AuditEvent.detail).where(AuditEvent.action == "staff_session.ended")
    )
    return [row[0]["reason"] for row in rows]  # type: ignore[index]


async def test_a_cookie_saved_before_sign_out_opens_nothing(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    saved = await signed_in(client, "doctor@clinic.test")
    assert await opens(client, saved) == (200, 200, "")
    signed_out = await post_form(client, saved, "/staff/logout")
    assert signed_out.status_code == 303
    assert (await opens(client, saved)) == (401, 303, "/staff/login?next=/staff/queue")
    assert await ended(database_url) == [("signed_out", "doctor@clinic.test")]
    assert await end_events(database_url) == ["signed_out"]


async def test_the_database_holds_only_a_hash_of_the_cookie(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    client.headers["user-agent"] = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )
    cookies = await signed_in(client, "reception@clinic.test")
    secret = cookies[COOKIE]
    [(stored, description)] = await in_database(
        database_url, select(StaffSession.secret_hash, StaffSession.description)
    )
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored)
    assert description == "Chrome on Linux"


def test_browsers_are_described_by_family_only() -> None:
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
    edge = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/120.0 Safari/537.36 Edg/120.0"
    assert describe_browser(firefox) == "Firefox on Windows"
    assert describe_browser(edge) == "Edge on macOS"
    assert describe_browser("") == "Unknown browser"
    assert describe_browser("<script>Ravi Menon 98470 12345") == "Unknown browser"


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (("users", "reset-password", "doctor@clinic.test", "--password-stdin"), "password_reset"),
        (("users", "disable", "doctor@clinic.test"), "disabled"),
        (("users", "sign-out-everywhere", "doctor@clinic.test"), "signed_out_everywhere"),
    ],
    ids=["reset-password", "disable", "sign-out-everywhere"],
)
async def test_account_commands_end_every_session_of_the_user(
    client: Client,
    service_env: dict[str, str],
    database_url: URL,
    command: tuple[str, ...],
    reason: str,
) -> None:
    await make_staff(database_url)
    phone = await signed_in(client, "doctor@clinic.test")
    desk = await signed_in(client, "doctor@clinic.test")
    colleague = await signed_in(client, "reception@clinic.test")
    done = await asyncio.to_thread(cli, service_env, *command, stdin="a brand new password\n")
    assert done.returncode == 0, done.stderr
    for cookies in (phone, desk):
        assert (await opens(client, cookies))[:2] == (401, 303)
    assert (await opens(client, colleague))[:2] == (200, 200)
    assert sorted(await ended(database_url)) == [(reason, "doctor@clinic.test")] * 2
    assert await end_events(database_url) == [reason, reason]


async def test_sign_out_everywhere_says_how_many_and_refuses_an_unknown_email(
    client: Client, service_env: dict[str, str], database_url: URL
) -> None:
    await make_staff(database_url)
    await signed_in(client, "admin@clinic.test")
    done = await asyncio.to_thread(
        cli, service_env, "users", "sign-out-everywhere", "Admin@Clinic.test"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Ended 1 session of admin@clinic.test."
    actions = await in_database(database_url, select(AuditEvent.action))
    assert ("staff_user.signed_out_everywhere",) in actions
    unknown = await asyncio.to_thread(
        cli, service_env, "users", "sign-out-everywhere", "ghost@clinic.test"
    )
    assert_one_clear_line(unknown, "no staff user with the email ghost@clinic.test")


@pytest.mark.parametrize(
    ("moved", "reason"),
    [
        ({"last_seen_at": timedelta(minutes=31)}, "idle"),
        (
            {"created_at": timedelta(hours=12, minutes=1), "last_seen_at": timedelta(minutes=5)},
            "expired",
        ),
    ],
    ids=["idle", "absolute"],
)
async def test_sessions_end_when_idle_or_too_old(
    client: Client, database_url: URL, moved: dict[str, timedelta], reason: str
) -> None:
    await make_staff(database_url)
    cookies = await signed_in(client, "reception@clinic.test")
    now = datetime.now(UTC)
    values = {column: now - ago for column, ago in moved.items()}
    await in_database(database_url, update(StaffSession).values(**values))
    assert (await opens(client, cookies))[:2] == (401, 303)
    assert await ended(database_url) == [(reason, "reception@clinic.test")]
    assert await end_events(database_url) == [reason]


async def test_last_use_is_written_at_most_once_a_minute(client: Client, database_url: URL) -> None:
    await make_staff(database_url)
    cookies = await signed_in(client, "reception@clinic.test")
    recently = datetime.now(UTC) - timedelta(seconds=20)
    await in_database(database_url, update(StaffSession).values(last_seen_at=recently))
    await opens(client, cookies)
    [(seen,)] = await in_database(database_url, select(StaffSession.last_seen_at))
    assert seen == recently  # read, not written
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    await in_database(database_url, update(StaffSession).values(last_seen_at=earlier))
    await opens(client, cookies)
    [(seen,)] = await in_database(database_url, select(StaffSession.last_seen_at))
    assert isinstance(seen, datetime)
    assert seen > datetime.now(UTC) - timedelta(seconds=30)


async def time_passes(url: URL, passed: timedelta) -> None:
    """Every session's times moved back by `passed`: as if that long went by, unslept."""
    rows = await in_database(
        url, select(StaffSession.id, StaffSession.created_at, StaffSession.last_seen_at)
    )
    for id_, created_at, last_seen_at in rows:
        assert isinstance(created_at, datetime)
        assert isinstance(last_seen_at, datetime)
        await in_database(
            url,
            update(StaffSession)
            .where(StaffSession.id == id_)
            .values(created_at=created_at - passed, last_seen_at=last_seen_at - passed),
        )


async def last_seen(url: URL) -> object:
    [(seen,)] = await in_database(url, select(StaffSession.last_seen_at))
    return seen


async def test_the_queue_reloading_its_rows_is_not_use_but_opening_a_page_is(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    client.cookies = await signed_in(client, "reception@clinic.test")
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    await in_database(database_url, update(StaffSession).values(last_seen_at=earlier))
    assert (await client.get("/staff/queue/rows")).status_code == 200
    assert await last_seen(database_url) == earlier
    assert (await client.get("/staff/queue")).status_code == 200
    seen = await last_seen(database_url)
    assert isinstance(seen, datetime)
    assert seen > datetime.now(UTC) - timedelta(seconds=30)


async def test_a_session_only_the_queue_reloads_ends_at_the_idle_limit(
    client: Client, database_url: URL
) -> None:
    """A reception screen left alone: its rows reload by themselves, nobody uses it."""
    await make_staff(database_url)
    client.cookies = await signed_in(client, "reception@clinic.test")
    await time_passes(database_url, timedelta(minutes=29))
    assert (await client.get("/staff/queue/rows")).status_code == 200
    await time_passes(database_url, timedelta(minutes=2))
    refused = await client.get("/staff/queue/rows", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/staff/login")
    assert await ended(database_url) == [("idle", "reception@clinic.test")]


def _listed(page: str) -> list[str]:
    return re.findall(r'action="/staff/sessions/([0-9a-f-]{36})/end"', page)


async def test_the_sessions_page_lists_and_ends_only_ones_own(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    laptop = await signed_in(client, "doctor@clinic.test")
    desk = await signed_in(client, "doctor@clinic.test")
    colleague = await signed_in(client, "reception@clinic.test")
    client.cookies = httpx.Cookies(colleague)
    assert _listed((await client.get("/staff/sessions")).text) == []  # only this one: no button

    client.cookies = httpx.Cookies(desk)
    page = await client.get("/staff/sessions")
    assert page.status_code == 200
    assert page.text.count("(this browser)") == 1
    [laptop_id] = _listed(page.text)  # the other doctor session; not the reception one
    [(colleague_id,)] = await in_database(
        database_url,
        select(StaffSession.id).join(StaffUser).where(StaffUser.email == "reception@clinic.test"),
    )
    refused = await post_form(client, desk, f"/staff/sessions/{colleague_id}/end")
    assert refused.status_code == 404
    assert (await opens(client, colleague))[:2] == (200, 200)

    ended_one = await post_form(client, desk, f"/staff/sessions/{laptop_id}/end")
    assert ended_one.status_code == 303
    assert ended_one.headers["location"] == "/staff/sessions"
    assert (await opens(client, laptop))[:2] == (401, 303)
    assert (await opens(client, desk))[:2] == (200, 200)
    assert await end_events(database_url) == ["ended_by_owner"]


async def test_the_sessions_page_leaves_out_sessions_past_their_limits(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    idle = await signed_in(client, "doctor@clinic.test")
    old = await signed_in(client, "doctor@clinic.test")
    desk = await signed_in(client, "doctor@clinic.test")
    now = datetime.now(UTC)
    ids = {}
    for name, cookies in (("idle", idle), ("old", old), ("desk", desk)):
        client.cookies = httpx.Cookies(cookies)
        ids[name] = set(_listed((await client.get("/staff/sessions")).text))
    # A page lists the other sessions: the one missing from a browser's own list is its own.
    [idle_id] = ids["desk"] - ids["idle"]
    [old_id] = ids["desk"] - ids["old"]
    await in_database(
        database_url,
        update(StaffSession)
        .where(StaffSession.id == UUID(idle_id))
        .values(last_seen_at=now - timedelta(minutes=31)),
    )
    await in_database(
        database_url,
        update(StaffSession)
        .where(StaffSession.id == UUID(old_id))
        .values(created_at=now - timedelta(hours=13)),
    )
    client.cookies = httpx.Cookies(desk)
    page = await client.get("/staff/sessions")
    assert page.status_code == 200
    assert _listed(page.text) == []  # both past a limit: not "signed in now"
    assert page.text.count("(this browser)") == 1


async def test_sign_out_everywhere_else_keeps_only_this_browser(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    others = [await signed_in(client, "admin@clinic.test") for _ in range(2)]
    here = await signed_in(client, "admin@clinic.test")
    colleague = await signed_in(client, "doctor@clinic.test")
    done = await post_form(client, here, "/staff/sessions/end-others")
    assert done.status_code == 303
    for cookies in others:
        assert (await opens(client, cookies))[:2] == (401, 303)
    assert (await opens(client, here))[:2] == (200, 200)
    assert (await opens(client, colleague))[:2] == (200, 200)


async def test_a_csrf_token_from_before_sign_in_is_refused_after_it(
    client: Client, database_url: URL
) -> None:
    await make_staff(database_url)
    client.cookies.clear()
    before = await csrf_token(client)
    csrf_before = client.cookies["csrftoken"]
    assert (await sign_in(client, "reception@clinic.test")).status_code == 303
    assert client.cookies["csrftoken"] != csrf_before  # rotated at sign-in
    session = client.cookies[COOKIE]

    # The old token with its own (still valid) cookie: Litestar's double-submit check alone
    # would let it through; the session says it is not its token.
    client.cookies = httpx.Cookies({COOKIE: session, "csrftoken": csrf_before})
    stale = await client.post(
        "/staff/sessions/end-others", data={"_csrf_token": before}, follow_redirects=False
    )
    assert stale.status_code == 403

    # Another session's token is refused the same way.
    other = await signed_in(client, "doctor@clinic.test")
    client.cookies = httpx.Cookies({COOKIE: session, "csrftoken": other["csrftoken"]})
    foreign = await client.post(
        "/staff/sessions/end-others",
        data={"_csrf_token": other["csrftoken"]},
        follow_redirects=False,
    )
    assert foreign.status_code == 403

    client.cookies = httpx.Cookies({COOKIE: session})
    fresh = await client.get("/staff/login")
    assert "csrftoken" in fresh.headers.get("set-cookie", "")  # a new, unbound one
    unbound = await client.post(
        "/staff/sessions/end-others",
        data={"_csrf_token": client.cookies["csrftoken"]},
        follow_redirects=False,
    )
    assert unbound.status_code == 403
