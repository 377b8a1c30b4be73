"""With REDIS_URL set, the rate limits count in Redis; when Redis is down or hung they fail open:
intakes are stored and staff sign in, with a warning in the log instead of a 500."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from tests.conftest import REDIS_URL
from tests.counting import count_rows
from tests.patients import intake_body
from tests.server import free_port
from tests.staff.support import make_staff, sign_in

LIMITS = {"INTAKE_RATE_LIMIT_PER_MINUTE": "2", "LOGIN_RATE_LIMIT_PER_MINUTE": "2"}


def _events(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [record.msg for record in caplog.records if isinstance(record.msg, dict)]


async def test_intakes_and_sign_in_go_on_when_redis_is_down(
    app_with: Callable[..., Litestar], database_url: URL, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await make_staff(database_url)
    # Nothing listens on this port: every Redis command is refused.
    app = app_with(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", **LIMITS)
    async with AsyncTestClient(app=app) as client:
        intakes = [
            (await client.post("/api/v1/intakes", json=intake_body())).status_code for _ in range(3)
        ]
        signed_in = await sign_in(client, "reception@clinic.test")
    # Three intakes over a limit of two: uncounted, not refused.
    assert intakes == [201, 201, 201]
    assert (await count_rows(database_url))["intake"] == 3
    assert signed_in.status_code == 303, signed_in.text
    events = _events(caplog)
    assert not [event for event in events if event["event"] == "unexpected error"]
    warnings = [
        event for event in events if event["event"] == "rate limit not counted: Redis unavailable"
    ]
    # One line per store and kind of failure, not one per request (two stores: intake, login).
    assert [event["error"] for event in warnings] == ["ConnectionError", "ConnectionError"]


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


async def test_a_hung_redis_does_not_hang_an_intake(
    app_with: Callable[..., Litestar], database_url: URL, hung_redis: str
) -> None:
    app = app_with(REDIS_URL=hung_redis, **LIMITS)
    async with AsyncTestClient(app=app) as client:
        started = time.monotonic()
        response = await client.post("/api/v1/intakes", json=intake_body())
        elapsed = time.monotonic() - started
    assert response.status_code == 201, response.text
    assert elapsed < 3, f"the intake waited {elapsed:.1f} s for Redis"


async def test_with_redis_up_the_limit_still_applies(
    app_with: Callable[..., Litestar], database_url: URL
) -> None:
    # Each test's database has its own name, and the keys are prefixed by its digest.
    app = app_with(REDIS_URL=REDIS_URL, **LIMITS)
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (await client.post("/api/v1/intakes", json=intake_body())).status_code for _ in range(3)
        ]
    assert statuses == [201, 201, 429]
    assert (await count_rows(database_url))["intake"] == 2
