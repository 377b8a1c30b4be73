"""Staff callers for tests: real accounts and tokens in the test database, real sign-in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import StaffUser
from service.staff import Role, create_token
from service.staff.accounts import hash_password
from tests.databases import engine_on

PASSWORD = "correct horse battery"
Client = AsyncTestClient[Litestar]


@dataclass
class Caller:
    """How a request is made: a cookie jar (signed in or not) and maybe a bearer token."""

    name: str
    cookies: httpx.Cookies
    csrf: str
    token: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"x-csrftoken": self.csrf}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        return headers


@cache
def password_hash() -> str:
    """PASSWORD's Argon2 hash, made once per process: the same for every account below, as
    each hash takes a good part of a second on purpose. How accounts are made is tested with
    `create_user` (tests/test_cli.py); sign-in still verifies this hash in full."""
    return hash_password(PASSWORD)


async def make_staff(url: URL) -> dict[str, str]:
    """One user per role, and a token per role; returns the tokens."""
    async with engine_on(url) as engine, AsyncSession(engine) as session:
        for role in Role:
            email = f"{role}@clinic.test"
            session.add(StaffUser(email=email, role=role.value, password_hash=password_hash()))
        tokens = {
            f"{role}-token": await create_token(session, f"{role} system", role) for role in Role
        }
        await session.commit()
    return tokens


async def csrf_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/staff/login")
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, "no CSRF field on the login page"
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Through the real form; also works on a real server process (an httpx.AsyncClient)."""
    token = await csrf_token(client)
    return await client.post(
        "/staff/login",
        data={"email": email, "password": password, "_csrf_token": token, "next": "/staff/queue"},
        follow_redirects=False,
    )


async def callers(client: Client, url: URL) -> dict[str, Caller]:
    """anonymous, reception, doctor, admin (signed in) and a doctor's token (no cookie)."""
    tokens = await make_staff(url)
    found: dict[str, Caller] = {}
    client.cookies.clear()
    found["anonymous"] = Caller("anonymous", httpx.Cookies(), await csrf_token(client))
    found["anonymous"].cookies = httpx.Cookies(client.cookies)
    for role in Role:
        client.cookies.clear()
        response = await sign_in(client, f"{role}@clinic.test")
        assert response.status_code == 303, response.text
        found[role.value] = Caller(
            role.value, httpx.Cookies(client.cookies), await csrf_token(client)
        )
    for role in Role:
        client.cookies.clear()
        found[f"{role}-token"] = Caller(
            f"{role}-token", httpx.Cookies(), await csrf_token(client), tokens[f"{role}-token"]
        )
        found[f"{role}-token"].cookies = httpx.Cookies(client.cookies)
    client.cookies.clear()
    return found


async def as_caller(
    client: Client, caller: Caller, method: str, path: str, **kwargs: object
) -> httpx.Response:
    client.cookies = httpx.Cookies(caller.cookies)
    headers = {**caller.headers(), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return await client.request(method, path, headers=headers, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
