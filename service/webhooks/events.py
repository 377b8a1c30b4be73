"""What a webhook says: the event types, and the minimal payload an integration receives.

A payload carries ids, the reference code, the level and the status, with their times: never a
name, a phone number, an answer or a rule title. A receiver that needs more asks the API.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.models import Intake


class EventType(StrEnum):
    INTAKE_CREATED = "intake.created"
    INTAKE_PRIORITY_CHANGED = "intake.priority_changed"
    INTAKE_STATUS_CHANGED = "intake.status_changed"

    @classmethod
    def parse(cls, raw: str) -> EventType:
        """The event type named `raw`, or a ValueError that lists the ones that exist."""
        try:
            return cls(raw.strip())
        except ValueError:
            names = ", ".join(kind.value for kind in cls)
            raise ValueError(f"unknown event type {raw!r}: use one of {names}") from None


class DeliveryStatus(StrEnum):
    """Where one event stands for one endpoint."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    """Every attempt failed (or the endpoint was disabled): an admin may re-queue it."""


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
