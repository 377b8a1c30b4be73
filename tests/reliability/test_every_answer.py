"""Every answer passes the same guards, also those made before or around a route.

The router's 404 and 405 are made before any route's middleware runs; the rate limiter's 429
and the CSRF 403 are made by the exception handler around a route's middleware. Each must still
carry the security headers, the request id and `no-store`, no `server` banner, and be logged
exactly once with the status the client really got.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import uuid4

import httpx
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from litestar.types import Receive, Scope
from litestar.types import Send as ASGISend

from service.web.access import PUBLIC
from service.web.edge import CONTENT_SECURITY_POLICY, ServiceEdge
from tests.patients import intake_body
from tests.staff.support import Client
from tests.web.test_intake_form import form_fields

Send = Callable[[Client, dict[str, str]], Awaitable[httpx.Response]]


@get("/test-only/unexpected-error", opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
def unexpected_error() -> None:
    raise RuntimeError("a bug in a handler")


async def _over_the_rate_limit(client: Client, headers: dict[str, str]) -> httpx.Response:
    assert (await client.post("/api/v1/intakes", json=intake_body())).status_code == 201
    return await client.post("/api/v1/intakes", json=intake_body(), headers=headers)


async def _too_large(client: Client, headers: dict[str, str]) -> httpx.Response:
    body = intake_body(concern_details="x" * (65 * 1024))
    return await client.post("/api/v1/intakes", json=body, headers=headers)


async def _form_without_csrf_token(client: Client, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/", data=form_fields(), headers=headers)


CASES: dict[str, tuple[int, Send]] = {
    "router-404": (404, lambda client, headers: client.get("/no-such-page", headers=headers)),
    "router-405": (405, lambda client, headers: client.put("/", headers=headers)),
    "rate-limit-429": (429, _over_the_rate_limit),
    "body-too-large-413": (413, _too_large),
    "csrf-403": (403, _form_without_csrf_token),
    "unexpected-500": (
        500,
        lambda client, headers: client.get("/test-only/unexpected-error", headers=headers),
    ),
}


@pytest.fixture
async def edge_client(app_with: Callable[..., Litestar]) -> AsyncIterator[Client]:
    app = app_with(INTAKE_RATE_LIMIT_PER_MINUTE="1")
    app.register(unexpected_error)
    async with AsyncTestClient(app=app) as client:
        yield client


def _request_lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[dict[str, Any]]:
    return [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict)
        and record.msg.get("event") == "request"
        and record.msg.get("request_id") == request_id
    ]


@pytest.mark.parametrize("case", CASES)
async def test_every_answer_carries_the_guards_and_one_log_line(
    edge_client: Client, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    status, send = CASES[case]
    # A request id no other line can carry by chance.
    marker = f"edge-marker-{uuid4().hex}"
    caplog.set_level(logging.INFO)
    response = await send(edge_client, {"X-Request-ID": marker})

    assert response.status_code == status, response.text
    assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, case
    assert response.headers.get("x-content-type-options") == "nosniff", case
    assert response.headers.get("x-request-id") == marker, case
    assert response.headers.get("cache-control") == "no-store", case
    assert "server" not in response.headers, case
    lines = _request_lines(caplog, marker)
    assert [line["status"] for line in lines] == [status], lines
    assert lines[0]["method"] == response.request.method
    assert lines[0]["path"] == response.request.url.path
    assert isinstance(lines[0]["duration_ms"], float)


async def test_the_request_line_never_carries_the_query_string(
    edge_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    marker = f"edge-marker-{uuid4().hex}"
    caplog.set_level(logging.INFO)
    secret = f"query-marker-{uuid4().hex}"
    headers = {"X-Request-ID": marker}
    response = await edge_client.get(f"/no-such-page?name={secret}", headers=headers)
    assert response.status_code == 404
    assert len(_request_lines(caplog, marker)) == 1
    assert secret not in caplog.text
    assert not any(secret in str(record.msg) for record in caplog.records)


async def test_a_failure_outside_the_apps_own_handler_still_gets_a_guarded_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing_handler(scope: Scope, receive: Receive, send: ASGISend) -> None:
        raise RuntimeError("the exception handler itself failed")

    marker = f"edge-marker-{uuid4().hex}"
    caplog.set_level(logging.INFO)
    edge = ServiceEdge(failing_handler)
    transport = httpx.ASGITransport(app=edge)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        response = await client.get("/api/v1/queue", headers={"X-Request-ID": marker})
    assert response.status_code == 500
    assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY
    assert response.headers.get("x-request-id") == marker
    assert response.headers.get("cache-control") == "no-store"
    assert [line["status"] for line in _request_lines(caplog, marker)] == [500]
    assert "the exception handler itself failed" not in caplog.text
