"""Staff sessions kept in the database, so that ending one takes effect at once, everywhere.

The browser holds only a random secret; the row (found by the secret's SHA-256) says whose it
is and whether it still lives. Every worker reads the same rows, so a sign-out, a password
reset, `users disable` or `users sign-out-everywhere` is seen by all of them on the next
request. Ending sessions also announces their ids, for open live-queue streams to close: on
PostgreSQL with NOTIFY in the ending transaction (every worker hears it at commit, whoever
ended it, the command line included); on SQLite, whose server is one process, to the callbacks
registered with `on_ended` after the commit.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service import audit
from service.codes import SessionEnd
from service.models import StaffSession, StaffUser
from service.settings import Settings
from service.staff.hashing import hash_token

# The channel the ids of ended sessions are announced on (a PostgreSQL NOTIFY channel too).
SESSION_CHANNEL = "staff_session_ended"
# The last use is written at most this often: otherwise every staff request, reads included,
# would be a write (a row lock on PostgreSQL; on SQLite a turn of its one writer, which intakes
# wait for). A minute is nothing against an idle limit of half an hour.
TOUCH_EVERY = timedelta(minutes=1)
_DESCRIPTION_LENGTH = 80
_ENDED = "staff_sessions.ended"
_ended_callbacks: set[Callable[[list[UUID]], None]] = set()


@dataclass(frozen=True, slots=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, settings: Settings) -> SessionLimits:
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        )

    def end_reason(self, session: StaffSession, now: datetime) -> SessionEnd | None:
        """Why this live row must end now, if it must."""
        if now - session.last_seen_at >= self.idle:
            return SessionEnd.IDLE
        if now - session.created_at >= self.absolute:
            return SessionEnd.EXPIRED
        return None


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session that a request may use, with its signed-in, active staff member."""

    id: UUID
    user: StaffUser
    csrf_hash: str


def new_secret() -> str:
    """The cookie's value: 256 random bits, guessed by nobody, meaning nothing by itself."""
    return secrets.token_urlsafe(32)


async def open_session(
    db: AsyncSession, user: StaffUser, csrf_token: str, description: str, now: datetime
) -> tuple[StaffSession, str]:
    """A new session for `user` bound to `csrf_token`; returns it and the cookie's secret."""
    secret = new_secret()
    session = StaffSession(
        id=uuid4(),
        user_id=user.id,
        secret_hash=hash_token(secret),
        csrf_hash=hash_token(csrf_token),
        description=description[:_DESCRIPTION_LENGTH],
        created_at=now,
        last_seen_at=now,
    )
    db.add(session)
    await db.flush()
    return session, secret


async def live_session(
    db: AsyncSession,
    criterion: ColumnElement[bool],
    limits: SessionLimits,
    now: datetime,
    *,
    use: bool = True,
) -> LiveSession | None:
    """The live session that `criterion` names, with its active user, in one query.

    One over its limits is ended here (a system event) and answers None. With `use`, a person
    is using it: its last use is recorded (at most once per TOUCH_EVERY). Without, a page is
    checking by itself (a live stream, its rows reloading): the session is checked and left
    as it is, so a screen nobody touches still goes idle. The caller commits.
    """
    row = (
        await db.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffSession.user_id == StaffUser.id)
            .where(criterion, StaffSession.ended_at.is_(None), StaffUser.is_active.is_(True))
        )
    ).first()
    if row is None:
        return None
    session, user = row._tuple()
    if reason := limits.end_reason(session, now):
        await end_sessions(db, reason, audit.SYSTEM, now, by_id(session.id))
        return None
    if use and now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
    return LiveSession(session.id, user, session.csrf_hash)


def by_secret(secret: str) -> ColumnElement[bool]:
    return StaffSession.secret_hash == hash_token(secret)


def by_id(session_id: UUID) -> ColumnElement[bool]:
    return StaffSession.id == session_id


def of_user(user_id: UUID, *, but: UUID | None = None) -> ColumnElement[bool]:
    """The sessions of one staff member, perhaps all but one (the one asking)."""
    mine = StaffSession.user_id == user_id
    return mine if but is None else mine & (StaffSession.id != but)


async def end_sessions(
    db: AsyncSession,
    reason: SessionEnd,
    actor: audit.Actor,
    now: datetime,
    *criteria: ColumnElement[bool],
) -> list[UUID]:
    """End the live sessions that match, each with an audit event; returns their ids.

    Only rows still live are touched, so two workers ending the same session record it once.
    """
    ended = list(
        (
            await db.execute(
                update(StaffSession)
                .where(*criteria, StaffSession.ended_at.is_(None))
                .values(ended_at=now, end_reason=reason.value)
                .returning(StaffSession.id, StaffSession.user_id)
                .execution_options(synchronize_session=False)
            )
        ).tuples()
    )
    if not ended:
        return []
    await audit.write(
        db,
        *(
            audit.Event(
                actor,
                "staff_session.ended",
                detail={"session_id": str(id_), "user_id": str(user_id), "reason": reason.value},
            )
            for id_, user_id in ended
        ),
    )
    ids = [id_ for id_, _ in ended]
    await _announce(db, ids)
    return ids


async def _announce(db: AsyncSession, ids: Sequence[UUID]) -> None:
    connection = await db.connection()
    if connection.dialect.name == "postgresql":
        # NOTIFY is transactional: heard by every listening worker at commit, never before.
        for session_id in ids:
            await connection.execute(
                text("SELECT pg_notify(:channel, :id)"),
                {"channel": SESSION_CHANNEL, "id": str(session_id)},
            )
    db.info.setdefault(_ENDED, []).extend(ids)


def on_ended(callback: Callable[[list[UUID]], None]) -> Callable[[], None]:
    """Call `callback` with the ids after each commit that ended sessions; returns its stop."""
    _ended_callbacks.add(callback)
    return lambda: _ended_callbacks.discard(callback)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if ids := session.info.pop(_ENDED, None):
        for callback in tuple(_ended_callbacks):
            callback(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any) -> None:
    session.info.pop(_ENDED, None)


async def active_sessions(
    db: AsyncSession, user_id: UUID, limits: SessionLimits, now: datetime
) -> list[StaffSession]:
    """A staff member's live sessions, the latest used first. A row past a limit is ended
    only when it is next used, so the limits are applied here too: it is not signed in now."""
    found = await db.scalars(
        select(StaffSession)
        .where(
            StaffSession.user_id == user_id,
            StaffSession.ended_at.is_(None),
            StaffSession.last_seen_at > now - limits.idle,
            StaffSession.created_at > now - limits.absolute,
        )
        .order_by(StaffSession.last_seen_at.desc())
    )
    return list(found)


class SessionKeeper:
    """Finds a request's session in a database session of its own, and commits what it wrote:
    the last use, or the end of a session found over its limits."""

    def __init__(
        self,
        sessionmaker: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        limits: SessionLimits,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.limits = limits

    async def find(
        self, criterion: ColumnElement[bool], now: datetime, *, use: bool = True
    ) -> LiveSession | None:
        async with self._sessionmaker() as db:
            found = await live_session(db, criterion, self.limits, now, use=use)
            await db.commit()
            return found


_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\b(?:iPhone|iPad|iPod)\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def describe_browser(user_agent: str) -> str:
    """ "Firefox on Linux": enough for staff to tell their sessions apart, nothing more (no
    versions, no address), and never text copied from the header."""
    user_agent = user_agent[:512]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
