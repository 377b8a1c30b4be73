"""What the clinic dashboard counts, kept on each intake: its clinic-local day, and its wait.

`submitted_day` is the clinic-local day of submission and `seen_after_seconds` the time from
submission to the move to `with_doctor`. Both are facts of the intake once made; with them in
one index, a year of figures is one range of it, however many intakes are stored. Existing rows
are filled in from `submitted_at` (in the clinic's time zone, CLINIC_TIMEZONE) and from their
status history.

SQLite adds a NOT NULL column only with a default, and cannot drop the default without copying
the table (which would cascade deletes to the rows that refer to intakes): there the column
keeps a placeholder default the service never relies on, since it always writes the day.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from service.settings import get_settings

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000

intake = sa.table(
    "intake",
    sa.column("id", GUID(length=16)),
    sa.column("submitted_at", DateTimeUTC(timezone=True)),
    sa.column("submitted_day", sa.Date()),
    sa.column("seen_after_seconds", sa.Integer()),
)
status_change = sa.table(
    "status_change",
    sa.column("intake_id", GUID(length=16)),
    sa.column("to_status", sa.String()),
    sa.column("changed_at", DateTimeUTC(timezone=True)),
)


def upgrade() -> None:
    op.add_column(
        "intake",
        sa.Column("submitted_day", sa.Date(), nullable=False, server_default="1970-01-01"),
    )
    op.add_column("intake", sa.Column("seen_after_seconds", sa.Integer(), nullable=True))
    _fill_in(op.get_bind())
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("intake", "submitted_day", server_default=None)
    op.create_index(
        "ix_intake_stats",
        "intake",
        ["submitted_day", "queue_rank", "status", "seen_after_seconds"],
        unique=False,
    )


def _fill_in(connection: sa.Connection) -> None:
    zone = get_settings().clinic_timezone
    seen = dict(
        connection.execute(
            sa.select(status_change.c.intake_id, sa.func.min(status_change.c.changed_at))
            .where(status_change.c.to_status == "with_doctor")
            .group_by(status_change.c.intake_id)
        ).all()
    )
    rows = connection.execute(sa.select(intake.c.id, intake.c.submitted_at)).all()
    for start in range(0, len(rows), BATCH):
        updates = []
        for intake_id, submitted_at in rows[start : start + BATCH]:
            at = _aware(submitted_at)
            seen_at = seen.get(intake_id)
            wait = None if seen_at is None else max(0, int((_aware(seen_at) - at).total_seconds()))
            updates.append({"key": intake_id, "day": at.astimezone(zone).date(), "wait": wait})
        connection.execute(
            intake.update()
            .where(intake.c.id == sa.bindparam("key"))
            .values(submitted_day=sa.bindparam("day"), seen_after_seconds=sa.bindparam("wait")),
            updates,
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def downgrade() -> None:
    op.drop_index("ix_intake_stats", table_name="intake")
    with op.batch_alter_table("intake") as batch:
        batch.drop_column("seen_after_seconds")
        batch.drop_column("submitted_day")
