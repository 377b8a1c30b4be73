"""The stored records: intakes with their red flags and status history, staff, tokens, audit.

One schema for SQLite and PostgreSQL. Column types come from Advanced Alchemy so UUIDs, UTC
timestamps and JSON behave the same on both.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.codes import DeliveryStatus, Priority, Status

# Crockford-style alphabet without 0/O, 1/I/L and U: a patient reads the code out on the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6


def new_reference() -> str:
    """A short code like `K7M-4QX` (about 7 * 10^8 values; the unique index catches a clash)."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{code[:3]}-{code[3:]}"


def utc_now() -> datetime:
    return datetime.now(UTC)


# Long enough for every level and status name; checked by the enums, not the database.
_CODE = String(16)
# A SQLite BIGINT primary key is not an alias of rowid and so never autoincrements.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DefaultBase):
    __abstract__ = True


class Intake(Base):
    """One patient's submitted pre-consultation form, and where it stands in the queue."""

    __tablename__ = "intake"

    # uuid4: 122 random bits, so knowing one id says nothing about another (contract).
    id: Mapped[UUID] = mapped_column(GUID, primary_key=True, default=uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True, default=new_reference)
    language: Mapped[str] = mapped_column(String(8))
    questionnaire_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, object]] = mapped_column(JsonB)
    consent_version: Mapped[str] = mapped_column(String(32))
    consent_text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    # The clinic-local day of submission (`Clinic.today(submitted_at)`): the dashboard's days.
    submitted_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(_CODE, default=Status.NEW.value)
    computed_priority: Mapped[str] = mapped_column(_CODE)
    rule_set: Mapped[str] = mapped_column(String(64))
    rule_set_version: Mapped[int] = mapped_column(Integer)
    # Exactly what the patient was told after submitting, in their language:
    # {"first": [...], "next_steps": "...", "education": [...]}.
    advice: Mapped[dict[str, object]] = mapped_column(JsonB)
    override_priority: Mapped[str | None] = mapped_column(_CODE)
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[UUID | None] = mapped_column(GUID, ForeignKey("staff_user.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The effective level's rank (Priority.rank): the queue's sort key, one integer to compare.
    queue_rank: Mapped[int] = mapped_column(SmallInteger)
    # Bumped on every change a summary shows (override, re-triage): the PDF cache key and ETag.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # When someone at reception acknowledged a new emergency: until then its alert stays up.
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    acknowledged_by: Mapped[UUID | None] = mapped_column(GUID, ForeignKey("staff_user.id"))
    # Seconds from submission to the move to `with_doctor` (once at most); None until seen.
    seen_after_seconds: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_digest: Mapped[str | None] = mapped_column(String(64))

    red_flags: Mapped[list[RedFlag]] = relationship(
        back_populates="intake", cascade="all, delete-orphan", order_by="RedFlag.id"
    )
    status_history: Mapped[list[StatusChange]] = relationship(
        back_populates="intake", cascade="all, delete-orphan", order_by="StatusChange.id"
    )

    __table_args__ = (
        # The queue reads one day of some statuses: each status's day is one range of this
        # index, however many intakes were ever left open (migration 0004).
        Index("ix_intake_queue", "status", "submitted_at"),
        Index("ix_intake_submitted_at", "submitted_at"),
    )

    @property
    def priority(self) -> Priority:
        """The level the clinic acts on: the doctor's override when there is one."""
        return Priority(self.override_priority or self.computed_priority)

    def set_priorities(self, computed: Priority, override: Priority | None) -> None:
        """The one place `computed_priority`, `override_priority` and `queue_rank` change."""
        self.computed_priority = computed.value
        self.override_priority = override.value if override else None
        self.queue_rank = (override or computed).rank


class RedFlag(Base):
    """A rule that fired for an intake, with the answers that made it fire.

    Re-triage keeps earlier flags and marks them superseded, so the history stays readable.
    """

    __tablename__ = "red_flag"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    intake_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("intake.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_set_version: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(_CODE)
    triggering_answers: Mapped[dict[str, object]] = mapped_column(JsonB)
    fired_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    intake: Mapped[Intake] = relationship(back_populates="red_flags")

    __table_args__ = (Index("ix_red_flag_intake", "intake_id"),)


class StatusChange(Base):
    """One step of an intake through the queue; the first row is its submission as `new`."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    intake_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("intake.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(_CODE)
    to_status: Mapped[str] = mapped_column(_CODE)
    changed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    changed_by: Mapped[UUID | None] = mapped_column(GUID, ForeignKey("staff_user.id"))

    intake: Mapped[Intake] = relationship(back_populates="status_history")

    __table_args__ = (Index("ix_status_change_intake", "intake_id"),)


class StaffUser(Base):
    """A person at the clinic who signs in: reception, doctor or admin."""

    __tablename__ = "staff_user"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True, default=uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(_CODE)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class StaffSession(Base):
    """One sign-in of a staff member on one browser, until it ends.

    The cookie holds a random secret; only its SHA-256 is kept here, so reading this table
    gives nobody a cookie that works. An ended session keeps its row: when and why it ended.
    """

    __tablename__ = "staff_session"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True, default=uuid4)
    user_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("staff_user.id"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The CSRF token issued at sign-in (its SHA-256): forms of this session must carry it.
    csrf_hash: Mapped[str] = mapped_column(String(64))
    # For the staff member's own list: "Firefox on Linux", never anything about a patient.
    description: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_staff_session_user", "user_id"),)


class ApiToken(Base):
    """A machine credential with a role. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_token"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True, default=uuid4)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(_CODE)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class AuditEvent(Base):
    """Who did what to which intake, and when. Append-only: database triggers refuse changes.

    It holds ids only, never answers, so it can outlive an erased intake (no foreign keys).
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    actor_kind: Mapped[str] = mapped_column(_CODE)  # staff, token, system, patient
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    intake_id: Mapped[UUID | None] = mapped_column(GUID)
    detail: Mapped[dict[str, object]] = mapped_column(JsonB, default=dict)

    __table_args__ = (
        Index("ix_audit_event_intake", "intake_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )


class WebhookEndpoint(Base):
    """A receiver an admin registered: where to send, the secret to sign with, which events."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True, default=uuid4)
    url: Mapped[str] = mapped_column(String(2000))
    # Kept as given (`whsec_...`): the worker needs the secret itself to sign, not a hash.
    secret: Mapped[str] = mapped_column(String(128))
    event_types: Mapped[list[str]] = mapped_column(JsonB)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)


class IntakeTally(Base):
    """How many intakes of one clinic-local day are at one level and status, having waited one
    whole number of minutes for the doctor (-1: not seen): the dashboard's counts, kept by
    database triggers on `intake` (migration 0006), so every change is counted in its own
    transaction, whichever code makes it. A year is at most a few hundred thousand rows of
    this, read without touching the intakes."""

    __tablename__ = "intake_tally"
    # On SQLite the rows are stored in key order (no rowid): a range of days is one scan.
    __table_args__ = ({"sqlite_with_rowid": False},)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    queue_rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    status: Mapped[str] = mapped_column(_CODE, primary_key=True)
    seen_minute: Mapped[int] = mapped_column(Integer, primary_key=True)
    intakes: Mapped[int] = mapped_column(Integer)


class RedFlagTally(Base):
    """How many current (not superseded) red flags of one rule the intakes of one clinic-local
    day carry; kept by triggers on `red_flag` and `intake` like `IntakeTally`."""

    __tablename__ = "red_flag_tally"
    __table_args__ = ({"sqlite_with_rowid": False},)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flags: Mapped[int] = mapped_column(Integer)


class OutboxEvent(Base):
    """Something integrations hear about, written in the same transaction as the change.

    Its id is the `webhook-id` every endpoint gets, on every attempt: a receiver that sees it
    twice knows it is a repeat. The worker fans it out to the subscribed endpoints later, so
    the request that made the change writes this one row and nothing else.
    """

    __tablename__ = "outbox_event"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True, default=uuid4)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, object]] = mapped_column(JsonB)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    fanned_out_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    __table_args__ = (
        # Only the events still to fan out: small while endpoints are registered, however
        # long the outbox grows.
        Index(
            "ix_outbox_event_to_fan_out",
            "created_at",
            sqlite_where=text("fanned_out_at IS NULL"),
            postgresql_where=text("fanned_out_at IS NULL"),
        ),
    )


class WebhookDelivery(Base):
    """One event for one endpoint: pending until a 2xx answer, dead after the last attempt."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("outbox_event.id", ondelete="CASCADE"))
    endpoint_id: Mapped[UUID] = mapped_column(
        GUID, ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(_CODE, default=DeliveryStatus.PENDING.value)
    # Attempts since the delivery was (re-)queued; every one is also a WebhookAttempt row.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a worker may next take it: the retry time, or the end of a worker's claim on it.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    event: Mapped[OutboxEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        cascade="all, delete-orphan", order_by="WebhookAttempt.id"
    )

    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        # The worker's claim: pending deliveries whose time has come, soonest first.
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint", "endpoint_id"),
    )


class WebhookAttempt(Base):
    """One try at a delivery: when, the receiver's status code or the error, how long."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("webhook_delivery.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id"),)
