"""Staff roles (contract): each is checked on the server for every staff route."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RECEPTION = "reception"
    DOCTOR = "doctor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, raw: str) -> Role:
        """The role named `raw`, or a ValueError that lists the ones that exist."""
        try:
            return cls(raw.strip().lower())
        except ValueError:
            names = ", ".join(role.value for role in cls)
            raise ValueError(f"unknown role {raw!r}: use one of {names}") from None
