"""What the live queue hears about: ids, levels and statuses, never names or answers."""

from __future__ import annotations

from typing import Literal

from service.models import Intake

CHANNEL = "queue"
QueueEventKind = Literal["intake.created", "intake.status_changed", "intake.priority_changed"]


def queue_event(kind: QueueEventKind, intake: Intake) -> dict[str, object]:
    """The message published on the queue channel; a listener fetches the row it needs."""
    return {
        "event": kind,
        "id": str(intake.id),
        "priority": intake.priority.value,
        "status": intake.status,
        "submitted_at": intake.submitted_at.isoformat(),
    }
