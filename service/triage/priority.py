"""The four priority levels of the clinical brief, defined once for the whole service."""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """How soon the clinic must act on an intake. Declared from most to least urgent."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    SOON = "soon"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        """Queue sort key: 0 is called first. Stored so the queue can use an index."""
        return _RANK[self]

    @classmethod
    def highest(cls, levels: list[Priority]) -> Priority:
        """The most urgent of `levels`, `routine` when there are none (brief: no rule fired)."""
        return min(levels, key=_RANK.__getitem__, default=cls.ROUTINE)


_RANK = {level: index for index, level in enumerate(Priority)}
