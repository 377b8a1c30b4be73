"""The queue's index leads with the status and then the submission time.

The queue reads one clinic-local day of the open statuses. The old index (status, queue_rank,
submitted_at) could narrow only by status, so every intake ever left open (never called, never
closed) was read on each queue request; (status, submitted_at) goes straight to the day's rows
for each status, however long the history. The day's hundred or so rows are sorted by level in
memory.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain index operations, not batch mode: nothing here needs SQLite to copy the table.
def upgrade() -> None:
    op.drop_index("ix_intake_queue", table_name="intake")
    op.create_index("ix_intake_queue", "intake", ["status", "submitted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_intake_queue", table_name="intake")
    op.create_index(
        "ix_intake_queue", "intake", ["status", "queue_rank", "submitted_at"], unique=False
    )
