"""Creating staff users and API tokens. Secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiToken, StaffUser
from service.staff.roles import Role

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PASSWORDS = PasswordHash((Argon2Hasher(),))


class AccountError(ValueError):
    """A staff account or token cannot be made as asked; the message says why."""


def hash_password(password: str) -> str:
    return _PASSWORDS.hash(password)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so a fast hash is enough (no dictionary to guess from)."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(session: AsyncSession, email: str, role: Role, password: str) -> StaffUser:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    taken = await session.scalar(select(func.count()).where(StaffUser.email == email))
    if taken:
        raise AccountError(f"a staff user with the email {email} already exists")
    user = StaffUser(email=email, role=role.value, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user


async def create_token(session: AsyncSession, name: str, role: Role) -> str:
    """Store a new token's hash and return the token itself, which is never seen again."""
    name = name.strip()
    if not name or len(name) > 120:
        raise AccountError("a token name must have 1 to 120 characters")
    taken = await session.scalar(select(func.count()).where(ApiToken.name == name))
    if taken:
        raise AccountError(f"a token named {name!r} already exists")
    token = f"cit_{secrets.token_urlsafe(32)}"
    session.add(ApiToken(name=name, role=role.value, token_hash=hash_token(token)))
    await session.flush()
    return token
