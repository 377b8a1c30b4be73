"""Queue statuses and the moves reception and doctors may make between them (contract)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    CALLED = "called"
    ARRIVED = "arrived"
    WITH_DOCTOR = "with_doctor"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


# The forward path new -> called -> arrived -> with_doctor -> done; a patient who has not yet
# reached the doctor can still fail to come, or cancel. Finished intakes never move again.
_MOVES: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.CALLED, Status.NO_SHOW, Status.CANCELLED}),
    Status.CALLED: frozenset({Status.ARRIVED, Status.NO_SHOW, Status.CANCELLED}),
    Status.ARRIVED: frozenset({Status.WITH_DOCTOR, Status.NO_SHOW, Status.CANCELLED}),
    Status.WITH_DOCTOR: frozenset({Status.DONE}),
    Status.DONE: frozenset(),
    Status.NO_SHOW: frozenset(),
    Status.CANCELLED: frozenset(),
}

# Still in the queue: re-triage and the live queue consider only these.
OPEN_STATUSES = frozenset({Status.NEW, Status.CALLED, Status.ARRIVED, Status.WITH_DOCTOR})


def can_move(current: Status, target: Status) -> bool:
    """Whether `current -> target` is a legal step; anything else answers 409."""
    return target in _MOVES[current]


def next_statuses(current: Status) -> frozenset[Status]:
    """The statuses a button may offer from `current`."""
    return _MOVES[current]
