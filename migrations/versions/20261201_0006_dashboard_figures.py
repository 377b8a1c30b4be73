"""What the clinic dashboard counts: each intake's clinic-local day and wait, and tallies.

`submitted_day` is the clinic-local day of submission and `seen_after_seconds` the time from
submission to the move to `with_doctor`: facts of the intake once made. Existing rows are filled
in from `submitted_at` (in the clinic's time zone, CLINIC_TIMEZONE) and from their status
history.

`intake_tally` counts intakes by (day, level, status, whole minutes to the doctor or -1) and
`red_flag_tally` current red flags by (day, rule): the dashboard reads a year from them without
touching the intakes. Database triggers keep them, in the transaction of each change to an
intake or a red flag (a submission, a move, an override, a re-triage, an erasure or a purge,
and the bulk seeding of the benchmarks), so no code path can forget one; they start from a count
of the rows there are.

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

BATCH = 1_000  # intakes per page (SQLite's backfill); 1,000 ids fit one IN list

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
    bind = op.get_bind()
    _fill_in(bind)
    if bind.dialect.name != "sqlite":
        op.alter_column("intake", "submitted_day", server_default=None)
    op.create_table(
        "intake_tally",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queue_rank", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seen_minute", sa.Integer(), nullable=False),
        sa.Column("intakes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "queue_rank", "status", "seen_minute", name=op.f("pk_intake_tally")
        ),
        # On SQLite the rows are stored in key order (no rowid): a range of days is one scan.
        sqlite_with_rowid=False,
    )
    op.create_table(
        "red_flag_tally",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "rule_id", name=op.f("pk_red_flag_tally")),
        sqlite_with_rowid=False,
    )
    for statement in _POSTGRESQL if bind.dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)
    op.execute(
        "INSERT INTO intake_tally (day, queue_rank, status, seen_minute, intakes) "  # noqa: S608
        f"SELECT submitted_day, queue_rank, status, {_MINUTE.format(row='intake')}, count(*) "
        f"FROM intake GROUP BY submitted_day, queue_rank, status, {_MINUTE.format(row='intake')}"
    )
    op.execute(
        "INSERT INTO red_flag_tally (day, rule_id, flags) "
        "SELECT intake.submitted_day, red_flag.rule_id, count(*) FROM red_flag "
        "JOIN intake ON intake.id = red_flag.intake_id WHERE red_flag.superseded_at IS NULL "
        "GROUP BY intake.submitted_day, red_flag.rule_id"
    )


# The tally key of an intake row (NEW or OLD in a trigger): whole minutes waited, -1 if unseen.
_MINUTE = "COALESCE({row}.seen_after_seconds / 60, -1)"
_KEY = "day = {row}.submitted_day AND queue_rank = {row}.queue_rank AND status = {row}.status"


# The SQL below is built from these constant fragments only ("NEW", "OLD"): no input (S608).
def _count(row: str) -> str:
    return (
        "INSERT INTO intake_tally (day, queue_rank, status, seen_minute, intakes) VALUES "  # noqa: S608
        f"({row}.submitted_day, {row}.queue_rank, {row}.status, {_MINUTE.format(row=row)}, 1) "
        "ON CONFLICT (day, queue_rank, status, seen_minute) "
        "DO UPDATE SET intakes = intake_tally.intakes + 1"
    )


def _uncount(row: str) -> str:
    return (
        f"UPDATE intake_tally SET intakes = intakes - 1 WHERE {_KEY.format(row=row)} "  # noqa: S608
        f"AND seen_minute = {_MINUTE.format(row=row)}"
    )


_FLAG_IN = (
    "INSERT INTO red_flag_tally (day, rule_id, flags) "
    "SELECT submitted_day, NEW.rule_id, 1 FROM intake WHERE intake.id = NEW.intake_id "
    "ON CONFLICT (day, rule_id) DO UPDATE SET flags = red_flag_tally.flags + 1"
)


def _flag_out(row: str) -> str:
    return (
        f"UPDATE red_flag_tally SET flags = flags - 1 WHERE rule_id = {row}.rule_id "  # noqa: S608
        f"AND day = (SELECT submitted_day FROM intake WHERE intake.id = {row}.intake_id)"
    )


# Before an intake goes, its red flags go (rather than after it, by cascade): their own trigger
# then still finds the intake's day.
_FLAGS_FIRST = "DELETE FROM red_flag WHERE red_flag.intake_id = OLD.id"
_KEY_COLUMNS = "submitted_day, queue_rank, status, seen_after_seconds"

_SQLITE = [
    f"CREATE TRIGGER intake_tally_insert AFTER INSERT ON intake BEGIN {_count('NEW')}; END",
    (
        f"CREATE TRIGGER intake_tally_update AFTER UPDATE OF {_KEY_COLUMNS} ON intake BEGIN "
        f"{_uncount('OLD')}; {_count('NEW')}; END"
    ),
    (
        "CREATE TRIGGER intake_tally_delete BEFORE DELETE ON intake BEGIN "
        f"{_FLAGS_FIRST}; {_uncount('OLD')}; END"
    ),
    (
        "CREATE TRIGGER red_flag_tally_insert AFTER INSERT ON red_flag "
        f"WHEN NEW.superseded_at IS NULL BEGIN {_FLAG_IN}; END"
    ),
    (
        "CREATE TRIGGER red_flag_tally_supersede AFTER UPDATE OF superseded_at ON red_flag "
        "WHEN OLD.superseded_at IS NULL AND NEW.superseded_at IS NOT NULL "
        f"BEGIN {_flag_out('NEW')}; END"
    ),
    (
        "CREATE TRIGGER red_flag_tally_delete AFTER DELETE ON red_flag "
        f"WHEN OLD.superseded_at IS NULL BEGIN {_flag_out('OLD')}; END"
    ),
]
# PostgreSQL: concurrent transactions lock tally rows, so a change takes its two rows in key
# order (and the intake writer inserts in that order): no two transactions wait in a circle.
_OLD_KEY = f"(OLD.submitted_day, OLD.queue_rank, OLD.status, {_MINUTE.format(row='OLD')})"
_NEW_KEY = f"(NEW.submitted_day, NEW.queue_rank, NEW.status, {_MINUTE.format(row='NEW')})"
_POSTGRESQL = [
    (
        "CREATE FUNCTION intake_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' THEN {_FLAGS_FIRST}; {_uncount('OLD')}; RETURN OLD; END IF; "
        f"IF TG_OP = 'INSERT' THEN {_count('NEW')}; "
        f"ELSIF {_OLD_KEY} < {_NEW_KEY} THEN {_uncount('OLD')}; {_count('NEW')}; "
        f"ELSE {_count('NEW')}; {_uncount('OLD')}; END IF; RETURN NEW; END $$"
    ),
    (
        "CREATE TRIGGER intake_tally_change AFTER INSERT OR UPDATE OF "
        f"{_KEY_COLUMNS} ON intake FOR EACH ROW EXECUTE FUNCTION intake_tally()"
    ),
    (
        "CREATE TRIGGER intake_tally_delete BEFORE DELETE ON intake "
        "FOR EACH ROW EXECUTE FUNCTION intake_tally()"
    ),
    (
        "CREATE FUNCTION red_flag_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {_FLAG_IN}; RETURN NEW; END IF; "
        f"IF TG_OP = 'UPDATE' THEN {_flag_out('NEW')}; RETURN NEW; END IF; "
        f"{_flag_out('OLD')}; RETURN OLD; END $$"
    ),
    (
        "CREATE TRIGGER red_flag_tally_insert AFTER INSERT ON red_flag FOR EACH ROW "
        "WHEN (NEW.superseded_at IS NULL) EXECUTE FUNCTION red_flag_tally()"
    ),
    (
        "CREATE TRIGGER red_flag_tally_supersede AFTER UPDATE OF superseded_at ON red_flag "
        "FOR EACH ROW WHEN (OLD.superseded_at IS NULL AND NEW.superseded_at IS NOT NULL) "
        "EXECUTE FUNCTION red_flag_tally()"
    ),
    (
        "CREATE TRIGGER red_flag_tally_delete AFTER DELETE ON red_flag FOR EACH ROW "
        "WHEN (OLD.superseded_at IS NULL) EXECUTE FUNCTION red_flag_tally()"
    ),
]


def _fill_in(connection: sa.Connection) -> None:
    """Each stored intake's day (in CLINIC_TIMEZONE, as the migration runs) and wait."""
    zone = get_settings().clinic_timezone
    if connection.dialect.name == "postgresql":
        # Set-based: two statements, whatever the number of intakes.
        connection.execute(
            sa.text(
                "UPDATE intake SET submitted_day = (submitted_at AT TIME ZONE :zone)::date"
            ).bindparams(zone=zone.key)
        )
        connection.execute(
            sa.text(
                "UPDATE intake SET seen_after_seconds = GREATEST(0, floor(extract(epoch FROM "
                "seen.at - intake.submitted_at)))::integer FROM (SELECT intake_id, "
                "min(changed_at) AS at FROM status_change WHERE to_status = 'with_doctor' "
                "GROUP BY intake_id) AS seen WHERE seen.intake_id = intake.id"
            )
        )
        return
    # SQLite has no time zones: page by page in Python, a page of intakes in memory at a time.
    after = None
    while True:
        page = sa.select(intake.c.id, intake.c.submitted_at).order_by(intake.c.id).limit(BATCH)
        if after is not None:
            page = page.where(intake.c.id > after)
        rows = connection.execute(page).all()
        if not rows:
            return
        seen = dict(
            connection.execute(
                sa.select(status_change.c.intake_id, sa.func.min(status_change.c.changed_at))
                .where(
                    status_change.c.to_status == "with_doctor",
                    status_change.c.intake_id.in_([intake_id for intake_id, _ in rows]),
                )
                .group_by(status_change.c.intake_id)
            ).all()
        )
        updates = []
        for intake_id, submitted_at in rows:
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
        after = rows[-1][0]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER red_flag_tally_delete ON red_flag")
        op.execute("DROP TRIGGER red_flag_tally_supersede ON red_flag")
        op.execute("DROP TRIGGER red_flag_tally_insert ON red_flag")
        op.execute("DROP TRIGGER intake_tally_delete ON intake")
        op.execute("DROP TRIGGER intake_tally_change ON intake")
        op.execute("DROP FUNCTION red_flag_tally()")
        op.execute("DROP FUNCTION intake_tally()")
    else:
        for name in (
            "red_flag_tally_delete",
            "red_flag_tally_supersede",
            "red_flag_tally_insert",
            "intake_tally_delete",
            "intake_tally_update",
            "intake_tally_insert",
        ):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("red_flag_tally")
    op.drop_table("intake_tally")
    with op.batch_alter_table("intake") as batch:
        batch.drop_column("seen_after_seconds")
        batch.drop_column("submitted_day")
