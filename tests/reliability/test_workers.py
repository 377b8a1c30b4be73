"""Two worker processes count one rate limit (in Redis), as a client meets them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.patients import intake_body
from tests.server import LiveServer, clients_on_each_worker


@pytest.mark.postgresql
def test_a_rate_limit_counts_across_both_workers(
    two_workers: Callable[..., LiveServer],
) -> None:
    server = two_workers(INTAKE_RATE_LIMIT_PER_MINUTE="2")
    first, second = clients_on_each_worker(server, 2)
    try:
        statuses = [
            client.post("/api/v1/intakes", json=intake_body()).status_code
            for client in (first, second, first, second)
        ]
    finally:
        first.close()
        second.close()
    # Two intakes a minute for the address: each worker counting alone would allow four.
    assert statuses == [201, 201, 429, 429]
