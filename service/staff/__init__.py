"""Clinic staff: their roles, accounts and API tokens."""

from service.staff.accounts import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    create_token,
    create_user,
    hash_token,
)
from service.staff.roles import Role

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccountError",
    "Role",
    "create_token",
    "create_user",
    "hash_token",
]
