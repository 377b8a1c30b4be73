"""Creating staff users and API tokens. Secrets are stored only as hashes."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.codes import Role, SessionEnd
from service.control_characters import has_control_characters
from service.models import ApiToken, StaffUser
from service.staff.hashing import hash_token
from service.staff.passwords import known_words, password_weakness
from service.staff.sessions import end_sessions, of_user

# After this many wrong passwords in a row the account waits LOCKOUT before the next try.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PASSWORDS = PasswordHash((Argon2Hasher(),))


class AccountError(ValueError):
    """A staff account or token cannot be made as asked; the message says why."""


def hash_password(password: str) -> str:
    return _PASSWORDS.hash(password)


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _typed(value: str, what: str) -> str:
    """`value` stripped, or an AccountError: no name or address holds a control character."""
    if has_control_characters(value):
        raise AccountError(f"the {what} must not contain a control character")
    return value.strip()


def _check_password(password: str, email: str, clinic_name: str) -> None:
    if weakness := password_weakness(password, known_words(email, clinic_name)):
        raise AccountError(weakness)


async def create_user(
    session: AsyncSession, email: str, role: Role, password: str, *, clinic_name: str = ""
) -> StaffUser:
    """A new account; `clinic_name` is one of the words its password must not be built on."""
    email = _normalise_email(_typed(email, "email"))
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address")
    _check_password(password, email, clinic_name)
    taken = await session.scalar(select(func.count()).where(StaffUser.email == email))
    if taken:
        raise AccountError(f"a staff user with the email {email} already exists")
    user = StaffUser(email=email, role=role.value, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user


async def create_token(session: AsyncSession, name: str, role: Role) -> str:
    """Store a new token's hash and return the token itself, which is never seen again."""
    name = _typed(name, "token name")
    if not name or len(name) > 120:
        raise AccountError("a token name must have 1 to 120 characters")
    taken = await session.scalar(select(func.count()).where(ApiToken.name == name))
    if taken:
        raise AccountError(f"a token named {name!r} already exists")
    token = f"cit_{secrets.token_urlsafe(32)}"
    session.add(ApiToken(name=name, role=role.value, token_hash=hash_token(token)))
    await session.flush()
    return token


# Verified when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _PASSWORDS.hash(secrets.token_urlsafe(16))


async def authenticate(
    session: AsyncSession, email: str, password: str, now: datetime
) -> tuple[StaffUser | None, StaffUser | None]:
    """(the user signed in, or None; the account the attempt was against, if any).

    The caller says the same thing for every failure, so nobody learns which emails exist.
    """
    if has_control_characters(email):
        # No account has such an address; and PostgreSQL refuses a NUL in a query.
        _PASSWORDS.verify(password, _DUMMY_HASH)
        return None, None
    user = await session.scalar(select(StaffUser).where(StaffUser.email == _normalise_email(email)))
    if user is None or not user.is_active:
        _PASSWORDS.verify(password, _DUMMY_HASH)
        return None, user
    if user.locked_until is not None and user.locked_until > now:
        _PASSWORDS.verify(password, _DUMMY_HASH)
        return None, user
    valid, new_hash = _PASSWORDS.verify_and_update(password, user.password_hash)
    if not valid:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        return None, user
    user.failed_logins = 0
    user.locked_until = None
    if new_hash:
        user.password_hash = new_hash
    return user, user


async def token_by_secret(session: AsyncSession, token: str) -> ApiToken | None:
    """The live token whose hash matches, if any."""
    found = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    return found if found is not None and found.revoked_at is None else None


async def user_by_email(session: AsyncSession, email: str) -> StaffUser:
    email = _typed(email, "email")
    user = await session.scalar(select(StaffUser).where(StaffUser.email == _normalise_email(email)))
    if user is None:
        raise AccountError(f"no staff user with the email {_normalise_email(email)}")
    return user


async def disable_user(session: AsyncSession, email: str, now: datetime) -> StaffUser:
    """Stop the user signing in, and end every session they have open."""
    user = await user_by_email(session, email)
    user.is_active = False
    await end_sessions(session, SessionEnd.DISABLED, audit.SYSTEM, now, of_user(user.id))
    return user


async def reset_password(
    session: AsyncSession, email: str, password: str, now: datetime, *, clinic_name: str = ""
) -> StaffUser:
    """A new password; the sessions opened with the old one end (whoever may have it)."""
    user = await user_by_email(session, email)
    _check_password(password, user.email, clinic_name)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.is_active = True
    await end_sessions(session, SessionEnd.PASSWORD_RESET, audit.SYSTEM, now, of_user(user.id))
    return user


async def sign_out_everywhere(
    session: AsyncSession, email: str, now: datetime
) -> tuple[StaffUser, list[UUID]]:
    """End every session of the user (a lost phone, a shared screen); returns the ended ids."""
    user = await user_by_email(session, email)
    ended = await end_sessions(
        session, SessionEnd.SIGNED_OUT_EVERYWHERE, audit.SYSTEM, now, of_user(user.id)
    )
    return user, ended


async def revoke_token(session: AsyncSession, name: str, now: datetime) -> ApiToken:
    name = _typed(name, "token name")
    token = await session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise AccountError(f"no token named {name.strip()!r}")
    token.revoked_at = token.revoked_at or now
    return token
