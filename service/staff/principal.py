"""Who is making a staff request: a signed-in person or an API token, with one role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from service import audit
from service.codes import Role


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["staff", "token"]
    id: UUID
    role: Role
    label: str
    """The staff member's email, or the token's name; shown on pages, never written to logs."""

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.kind, str(self.id))

    @property
    def staff_user_id(self) -> UUID | None:
        """The person, for `changed_by` columns; a token is not a person."""
        return self.id if self.kind == "staff" else None
