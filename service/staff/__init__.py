"""Clinic staff: their roles, accounts and API tokens."""

from service.codes import Role
from service.staff.accounts import (
    AccountError,
    authenticate,
    create_token,
    create_user,
    disable_user,
    reset_password,
    revoke_token,
    sign_out_everywhere,
    token_by_secret,
)
from service.staff.hashing import hash_token
from service.staff.passwords import MIN_PASSWORD_LENGTH
from service.staff.principal import Principal

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccountError",
    "Principal",
    "Role",
    "authenticate",
    "create_token",
    "create_user",
    "disable_user",
    "hash_token",
    "reset_password",
    "revoke_token",
    "sign_out_everywhere",
    "token_by_secret",
]
