"""What the API and the pages both accept from a request: the largest body, the status filter."""

from __future__ import annotations

from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from service.codes import OPEN_STATUSES, Status
from service.web.problems import FieldError, problem

# The largest request body read: the API's intakes, the intake form, and the server itself.
MAX_BODY = 64 * 1024


def parse_statuses(raw: str | list[str] | None) -> frozenset[Status]:
    """`new,called` or several `status` parameters; the open statuses when none."""
    parts = [
        part.strip()
        for chunk in ([raw] if isinstance(raw, str) else raw or [])
        for part in chunk.split(",")
    ]
    if not any(parts):
        return OPEN_STATUSES
    try:
        return frozenset(Status(part) for part in parts if part)
    except ValueError:
        names = ", ".join(status.value for status in Status)
        raise problem(
            HTTP_422_UNPROCESSABLE_ENTITY,
            "Unknown status.",
            errors=[FieldError("status", f"use one or more of: {names}")],
        ) from None
