"""A new intake is announced on the queue channel, without names or answers."""

from __future__ import annotations

import asyncio
import json

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.testing import AsyncTestClient

from service.queue.events import CHANNEL
from tests.patients import intake_body


async def test_a_new_intake_is_announced_once_with_ids_and_level_only(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    channels = app.plugins.get(ChannelsPlugin)
    async with channels.start_subscription([CHANNEL]) as subscriber:
        headers = {"Idempotency-Key": "announce-once"}
        body = intake_body(erection_over_4h=True, full_name="Ravi Menon", phone="98470 12345")
        first = await client.post("/api/v1/intakes", json=body, headers=headers)
        replay = await client.post("/api/v1/intakes", json=body, headers=headers)
        assert first.status_code == replay.status_code == 201
        events = subscriber.iter_events()
        message = json.loads(await asyncio.wait_for(anext(events), timeout=5))
        assert message == {
            "event": "intake.created",
            "id": first.json()["id"],
            "priority": "emergency",
            "status": "new",
            "submitted_at": message["submitted_at"],
        }
        # The replay stored nothing new, so it announces nothing either.
        try:
            extra = await asyncio.wait_for(anext(events), timeout=0.5)
        except TimeoutError:
            extra = None
        assert extra is None
    text = json.dumps(message)
    assert "Ravi" not in text
    assert "98470" not in text
