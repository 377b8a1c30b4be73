"""Emergency acknowledgement: who at reception saw a new emergency, and when.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:29:24.997186
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intake", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", GUID(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_intake_acknowledged_by_staff_user"),
            "staff_user",
            ["acknowledged_by"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("intake", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_intake_acknowledged_by_staff_user"), type_="foreignkey"
        )
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
