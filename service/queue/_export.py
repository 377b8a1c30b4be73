"""A day's queue as CSV for reception: who is waiting and for how long, nothing clinical."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from service.queue._listing import QueueEntry
from service.spreadsheet import BYTE_ORDER_MARK, to_csv

COLUMNS = (
    "reference",
    "full_name",
    "phone",
    "priority",
    "status",
    "submitted_at",
    "waiting_minutes",
)


def queue_csv(entries: Iterable[QueueEntry], timezone: ZoneInfo) -> str:
    """One row per entry, in queue order; times on the clinic's clock (`YYYY-MM-DD HH:MM`)."""
    rows = (
        (
            entry.reference,
            entry.full_name,
            entry.phone,
            entry.priority.value,
            entry.status.value,
            entry.submitted_at.astimezone(timezone).strftime("%Y-%m-%d %H:%M"),
            entry.waiting_minutes,
        )
        for entry in entries
    )
    return BYTE_ORDER_MARK + to_csv(rows, COLUMNS)
