"""principals: a station's street

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: every principal added before is a branch, department, auditor or admin.
    op.add_column(
        "principals",
        sa.Column("street", AutoString(length=64), nullable=True),
    )


def downgrade() -> None:
    # SQLite drops a column only by copying the table: batch mode does that.
    with op.batch_alter_table("principals") as batch_op:
        batch_op.drop_column("street")
