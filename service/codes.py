"""The codes the database stores (levels, statuses, roles, event types), each defined once.

A leaf: it imports nothing of the service's, so the models and every layer above them can use
the codes without loading the rule engines, the queue or the webhook worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Literal


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


class Status(StrEnum):
    """Where an intake stands in the reception queue (contract)."""

    NEW = "new"
    CALLED = "called"
    ARRIVED = "arrived"
    WITH_DOCTOR = "with_doctor"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


# The words staff read for each status: on the queue's pages and in the FHIR code system.
STATUS_LABELS = {
    Status.NEW: "New",
    Status.CALLED: "Called",
    Status.ARRIVED: "Arrived",
    Status.WITH_DOCTOR: "With doctor",
    Status.DONE: "Done",
    Status.NO_SHOW: "No show",
    Status.CANCELLED: "Cancelled",
}

# The forward path new -> called -> arrived -> with_doctor -> done; a patient who has not yet
# reached the doctor can still fail to come, or cancel. Finished intakes never move again.
# The moves belong to the codes: the intake's status action enforces them and the queue's
# buttons offer them, and neither layer may import the other.
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


class Role(StrEnum):
    """Staff roles (contract): each is checked on the server for every staff route."""

    RECEPTION = "reception"
    DOCTOR = "doctor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, raw: str) -> Role:
        """The role named `raw`, or a ValueError that lists the ones that exist."""
        try:
            return cls(raw.strip().lower())
        except ValueError:
            raise _unknown("role", raw, cls) from None


class SessionEnd(StrEnum):
    """Why a staff session ended: in its row and on the audit trail."""

    SIGNED_OUT = "signed_out"
    ENDED_BY_OWNER = "ended_by_owner"  # from the staff member's own list of sessions
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a password
    DISABLED = "disabled"
    IDLE = "idle"
    EXPIRED = "expired"  # the absolute limit since sign-in


# Who acted, on the audit trail: a signed-in staff user, an API token, the system, a patient.
ActorKind = Literal["staff", "token", "system", "patient"]


class EventType(StrEnum):
    """What a webhook (and its outbox row) announces."""

    INTAKE_CREATED = "intake.created"
    INTAKE_PRIORITY_CHANGED = "intake.priority_changed"
    INTAKE_STATUS_CHANGED = "intake.status_changed"

    @classmethod
    def parse(cls, raw: str) -> EventType:
        """The event type named `raw`, or a ValueError that lists the ones that exist."""
        try:
            return cls(raw.strip())
        except ValueError:
            raise _unknown("event type", raw, cls) from None


class DeliveryStatus(StrEnum):
    """Where one webhook event stands for one endpoint."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    """Every attempt failed (or the endpoint was disabled): an admin may re-queue it."""


def _unknown(kind: str, raw: str, codes: Iterable[StrEnum]) -> ValueError:
    # What a command line or an admin form says about a name it does not know.
    names = ", ".join(code.value for code in codes)
    return ValueError(f"unknown {kind} {raw!r}: use one of {names}")
