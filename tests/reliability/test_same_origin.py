"""Unsafe requests that carry cookies must come from the service's own origin.

A browser sends a site's cookies with a request another site makes it send; SameSite=Lax and
the CSRF token cover forms, but the API is exempt from CSRF tokens (machine clients use
bearer tokens). A cookie-carrying POST, PUT, PATCH or DELETE must show, by `Origin` or by
`Sec-Fetch-Site`, that it came from this service's own pages; one with neither header comes
from a program, not a browser, and passes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from service.app import create_app
from tests.counting import count_rows
from tests.staff.support import Caller, Client, as_caller, callers
from tests.staff.test_queue_api import submit
from tests.web.test_intake_form import form_fields, open_form

OWN_ORIGIN = "http://testserver.local"
CROSS_SITE = [
    {"origin": "https://evil.example"},
    # An opaque origin tells nothing; no Sec-Fetch-Site to say more: refused.
    {"origin": "null"},
    {"origin": "null", "sec-fetch-site": "cross-site"},
    # Same host, another scheme or port: another origin.
    {"origin": "https://testserver.local"},
    {"origin": "http://testserver.local:8080"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
]
SAME_ORIGIN = [
    {"origin": OWN_ORIGIN},
    {"origin": "HTTP://TestServer.Local:80"},
    {"sec-fetch-site": "same-origin"},
    {"sec-fetch-site": "none"},
    # What Chromium sends from a page under `Referrer-Policy: no-referrer`.
    {"origin": "null", "sec-fetch-site": "same-origin"},
    {},
]


def _ids(headers: dict[str, str]) -> str:
    return ",".join(f"{name}={value}" for name, value in headers.items()) or "no-header"


async def _reception_calls_a_patient(
    client: Client, database_url: URL, headers: dict[str, str], *, cookie: bool = True
) -> tuple[httpx.Response, str]:
    """Reception moves a new intake to `called`, signed in (a cookie) or with a bearer token
    only; returns the answer and the intake's status afterwards (as a doctor reads it)."""
    who = await callers(client, database_url)
    intake_id = await submit(client)
    token = who["reception-token"]
    caller = who["reception"] if cookie else Caller(token.name, httpx.Cookies(), "", token.token)
    response = await as_caller(
        client,
        caller,
        "POST",
        f"/api/v1/intakes/{intake_id}/status",
        json={"status": "called"},
        headers=headers,
    )
    read = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{intake_id}")
    assert read.status_code == 200, read.text
    return response, str(read.json()["status"])


@pytest.mark.parametrize("headers", CROSS_SITE, ids=_ids)
async def test_a_cross_site_api_write_with_the_reception_cookie_is_refused(
    client: Client, database_url: URL, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response, status = await _reception_calls_a_patient(client, database_url, headers)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 403
    assert status == "new"
    events = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    assert any(event["event"] == "cross-site request refused" for event in events)
    assert any(event["event"] == "request" and event["status"] == 403 for event in events)


@pytest.mark.parametrize("headers", SAME_ORIGIN, ids=_ids)
async def test_a_same_origin_api_write_with_the_reception_cookie_still_works(
    client: Client, database_url: URL, headers: dict[str, str]
) -> None:
    response, status = await _reception_calls_a_patient(client, database_url, headers)
    assert response.status_code == 200, response.text
    assert status == "called"


async def test_a_bearer_token_without_a_cookie_is_not_asked_for_an_origin(
    client: Client, database_url: URL
) -> None:
    cross_site = {"origin": "https://evil.example"}
    response, status = await _reception_calls_a_patient(
        client, database_url, cross_site, cookie=False
    )
    assert response.status_code == 200, response.text
    assert status == "called"


@pytest.mark.parametrize("headers", CROSS_SITE[:1] + CROSS_SITE[-2:-1], ids=_ids)
async def test_a_cross_site_patient_form_is_refused_and_stores_nothing(
    client: Client, database_url: URL, headers: dict[str, str]
) -> None:
    # Even with a valid CSRF token and cookie (as if the other site had got hold of both).
    hidden = await open_form(client)
    response = await client.post(
        "/", data={**hidden, **form_fields()}, headers=headers, follow_redirects=False
    )
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<form" not in response.text
    assert (await count_rows(database_url))["intake"] == 0
    own = {"origin": OWN_ORIGIN}
    same_origin = await client.post(
        "/", data={**hidden, **form_fields()}, headers=own, follow_redirects=False
    )
    assert same_origin.status_code == 303, same_origin.text
    assert (await count_rows(database_url))["intake"] == 1


@pytest.fixture
async def behind_public_url(app_with: Callable[..., Litestar]) -> AsyncIterator[Client]:
    app = app_with(PUBLIC_BASE_URL="https://intake.clinic.example")
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        # The request's own address is not the clinic's public one (a Host header can lie).
        (OWN_ORIGIN, 403),
        ("https://intake.clinic.example", 303),
    ],
)
async def test_with_a_public_base_url_only_that_origin_is_ours(
    behind_public_url: Client, database_url: URL, origin: str, expected: int
) -> None:
    client = behind_public_url
    hidden = await open_form(client)
    response = await client.post(
        "/", data={**hidden, **form_fields()}, headers={"origin": origin}, follow_redirects=False
    )
    assert response.status_code == expected, response.text
    assert (await count_rows(database_url))["intake"] == (1 if expected == 303 else 0)


async def test_the_request_scheme_decides_the_own_origin(
    service_env: dict[str, str], database_url: URL
) -> None:
    # Behind TLS (the scheme as the ASGI server or a trusted proxy set it), http is another site.
    async with AsyncTestClient(app=create_app(), base_url="https://testserver.local") as client:
        hidden = await open_form(client)
        fields = {**hidden, **form_fields()}
        plain = await client.post(
            "/", data=fields, headers={"origin": OWN_ORIGIN}, follow_redirects=False
        )
        assert plain.status_code == 403, plain.text
        tls = await client.post(
            "/", data=fields, headers={"origin": "https://testserver.local"}, follow_redirects=False
        )
        assert tls.status_code == 303, tls.text
