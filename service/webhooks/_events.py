"""What a webhook says: its body. The event types (`service.codes`) and the minimal payload
(`service.intake.outbox`) are written with the intake's change.

A payload carries ids, the reference code, the level and the status, with their times: never a
name, a phone number, an answer or a rule title. A receiver that needs more asks the API.
"""

from __future__ import annotations

import json
from datetime import datetime


def webhook_body(event_type: str, occurred_at: datetime, data: dict[str, object]) -> bytes:
    """The request body, the same bytes on every attempt: `{"type", "timestamp", "data"}`."""
    envelope = {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
