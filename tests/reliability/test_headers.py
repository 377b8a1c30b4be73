"""Security headers, `no-store` and cookie flags on every route of the route table.

The routes come from the app's own route table, so a page added later is checked too. Each is
called by a caller it admits (so the real page is rendered, not a refusal) and by an anonymous
one (so refusals and redirects are checked as well). Every answer but a static file's must say
`Cache-Control: no-store`: pages, JSON, FHIR, PDF and CSV all carry patient data.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from service.app import create_app
from service.settings import get_settings
from service.staff import Role
from service.web.access import allowed_roles
from service.web.edge import STATIC_PREFIX
from tests.patients import intake_body
from tests.staff.support import Caller, Client, as_caller, callers, make_staff, sign_in
from tests.staff.test_access_matrix import concrete, routes

HSTS = "max-age=31536000; includeSubDomains"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def check_headers(
    headers: dict[str, str], *, behind_https: bool, outcome: str, static: bool = False
) -> None:
    policy = _directives(headers.get("content-security-policy", ""))
    assert policy.get("frame-ancestors") == ["'none'"], outcome
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts, outcome
    assert "'unsafe-inline'" not in scripts, outcome
    assert "'unsafe-eval'" not in scripts, outcome
    assert all(source == "'self'" or source.startswith("'nonce-") for source in scripts), outcome
    assert headers.get("x-content-type-options") == "nosniff", outcome
    assert headers.get("referrer-policy") == "same-origin", outcome
    if static:  # the same file for everyone: it keeps its own caching
        assert "no-store" not in headers.get("cache-control", ""), outcome
    else:
        assert headers.get("cache-control") == "no-store", outcome
    if behind_https:
        assert headers.get("strict-transport-security") == HSTS, outcome
    else:
        assert "strict-transport-security" not in headers, outcome


# The patient's language choice is a preference, not a credential: it needs no prefix.
UNPREFIXED = {"lang"}


def check_cookies(set_cookies: list[str], *, behind_https: bool, outcome: str) -> None:
    for line in set_cookies:
        cookie = SimpleCookie()
        cookie.load(line)
        for name, morsel in cookie.items():
            if behind_https and name not in UNPREFIXED:
                # Browsers keep a `__Host-` cookie only when Secure, Path=/ and no Domain:
                # no plain-HTTP page or sibling subdomain can plant or replace it.
                assert name.startswith("__Host-"), f"{outcome}: {name} is not __Host-"
                assert morsel["path"] == "/", f"{outcome}: {name} path"
                assert not morsel["domain"], f"{outcome}: {name} domain"
                assert morsel["secure"], f"{outcome}: {name} Secure flag"
            if not morsel.value:  # a cookie being cleared carries nothing to protect
                continue
            assert morsel["httponly"], f"{outcome}: {name} is not HttpOnly"
            assert morsel["samesite"].lower() in {"lax", "strict"}, f"{outcome}: {name}"
            assert bool(morsel["secure"]) == behind_https, f"{outcome}: {name} Secure flag"


def admitted_caller(handler: object, who: dict[str, Caller]) -> Caller:
    declared = allowed_roles(handler)  # type: ignore[arg-type]
    if declared == "public" or declared is None:
        return who["anonymous"]
    for role in (Role.DOCTOR, Role.ADMIN, Role.RECEPTION):
        if role in declared:
            return who[role.value]
    raise AssertionError(f"no caller for {declared}")


@pytest.mark.parametrize("behind_https", [False, True], ids=["http", "behind-https"])
async def test_every_route_sends_the_security_headers(
    service_env: dict[str, str],
    database_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    behind_https: bool,
) -> None:
    monkeypatch.setenv("BEHIND_HTTPS", "true" if behind_https else "false")
    get_settings.cache_clear()
    app: Litestar = create_app()
    base_url = "https://testserver.local" if behind_https else "http://testserver.local"
    async with AsyncTestClient(app=app, base_url=base_url) as client:
        await _check_every_route(app, client, database_url, behind_https=behind_https)


async def _check_every_route(
    app: Litestar, client: Client, database_url: URL, *, behind_https: bool
) -> None:
    who = await callers(client, database_url)
    created = await client.post("/api/v1/intakes", json=intake_body())
    assert created.status_code == 201, created.text
    intake_id = UUID(created.json()["id"])
    pages = 0
    for method, path, handler in routes(app):
        url = concrete(path, intake_id)
        for caller in (admitted_caller(handler, who), who["anonymous"]):
            body = {"json": {}} if url.startswith("/api/") and method == "POST" else {"data": {}}
            response = await as_caller(client, caller, method, url, **body)
            outcome = f"{caller.name} {method} {url} -> {response.status_code}"
            static = url.startswith(STATIC_PREFIX)
            check_headers(
                dict(response.headers), behind_https=behind_https, outcome=outcome, static=static
            )
            check_cookies(
                response.headers.get_list("set-cookie"), behind_https=behind_https, outcome=outcome
            )
            if response.headers.get("content-type", "").startswith("text/html"):
                pages += 1
                assert not INLINE_SCRIPT.search(response.text), f"{outcome}: inline script"
                assert not INLINE_HANDLER.search(response.text), f"{outcome}: inline handler"
    # The patient form, thanks, sign-in, queue, intake, audit pages and the refusal pages.
    assert pages >= 10, pages


@pytest.mark.parametrize("behind_https", [False, True], ids=["http", "behind-https"])
async def test_signing_in_sets_a_session_cookie_with_the_right_flags(
    service_env: dict[str, str],
    database_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    behind_https: bool,
) -> None:
    await make_staff(database_url)
    monkeypatch.setenv("BEHIND_HTTPS", "true" if behind_https else "false")
    get_settings.cache_clear()
    base_url = "https://testserver.local" if behind_https else "http://testserver.local"
    async with AsyncTestClient(app=create_app(), base_url=base_url) as client:
        response = await sign_in(client, "reception@clinic.test")
        assert response.status_code == 303, response.text
        set_cookies = response.headers.get_list("set-cookie")
        prefix = "__Host-" if behind_https else ""
        names = {line.split("=", 1)[0] for line in set_cookies}
        assert names == {f"{prefix}staff_session", f"{prefix}csrftoken"}, set_cookies
        check_cookies(set_cookies, behind_https=behind_https, outcome="sign-in")
        check_headers(dict(response.headers), behind_https=behind_https, outcome="sign-in")
