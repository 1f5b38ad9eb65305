"""deliveries keep their case's compound (lower case) and are read by status and
compound from one index; the unsent notifications from a partial index: the
deliveries page reads ranges, not the whole history

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UNSENT = sa.text("unsent_why IS NOT NULL")


def upgrade() -> None:
    op.add_column(
        "deliveries",
        sa.Column("compound", AutoString(length=200), nullable=False, server_default=""),
    )
    # The cases' compounds, folded as a scope matches them (store.case_filters.compound_in).
    op.execute(
        "UPDATE deliveries SET compound = COALESCE("
        "(SELECT lower(cases.compound) FROM cases WHERE cases.case_id = deliveries.case_id), '')"
    )
    op.create_index("ix_deliveries_status_created", "deliveries", ["status", "created_at"])
    op.create_index(
        "ix_deliveries_status_compound_created",
        "deliveries",
        ["status", "compound", "created_at"],
    )
    op.create_index("ix_deliveries_delivered_at", "deliveries", ["delivered_at"])
    op.create_index(
        "ix_notifications_unsent_at",
        "notifications",
        ["at"],
        sqlite_where=UNSENT,
        postgresql_where=UNSENT,
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_unsent_at", table_name="notifications")
    op.drop_index("ix_deliveries_delivered_at", table_name="deliveries")
    op.drop_index("ix_deliveries_status_compound_created", table_name="deliveries")
    op.drop_index("ix_deliveries_status_created", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("compound")
