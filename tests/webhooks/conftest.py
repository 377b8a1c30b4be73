"""Webhook test fixtures: a real receiver on 127.0.0.1, and small retry settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.settings import get_settings
from tests.webhooks.receiver import Receiver, running_receiver

# Quick tests: a tenth of a second before the first retry, three attempts in all.
QUICK = {
    "WEBHOOK_WORKER": "true",  # off in every other test (tests/conftest.py's service_env)
    "WEBHOOK_MAX_ATTEMPTS": "3",
    "WEBHOOK_BACKOFF_SECONDS": "0.1",
    "WEBHOOK_POLL_SECONDS": "0.5",
    "WEBHOOK_TIMEOUT_SECONDS": "2",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def webhook_env(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The test's service environment with quick webhook settings."""
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return {**service_env, **QUICK}
