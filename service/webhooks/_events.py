"""What a webhook says: the minimal payload an integration receives.

A payload carries ids, the reference code, the level and the status, with their times: never a
name, a phone number, an answer or a rule title. A receiver that needs more asks the API.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.models import Intake


def intake_data(intake: Intake, **previous: str) -> dict[str, object]:
    """The `data` of an intake event: the intake as it is now, plus what changed from."""
    return {
        "id": str(intake.id),
        "reference": intake.reference,
        "priority": intake.priority.value,
        "status": intake.status,
        "submitted_at": intake.submitted_at.isoformat(),
        **previous,
    }


def webhook_body(event_type: str, occurred_at: datetime, data: dict[str, object]) -> bytes:
    """The request body, the same bytes on every attempt: `{"type", "timestamp", "data"}`."""
    envelope = {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
