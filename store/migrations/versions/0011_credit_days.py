"""each group's credits by day, kept with the credits; filled from them

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_COUNTS = (
    *(
        f"{measure}_{part}"
        for measure in (
            "response",
            "resolution",
            "satisfaction",
            "return",
            "redo",
            "on_time_completion",
        )
        for part in ("units", "hits")
    ),
    "dispatches",
    "escalations",
    "report_in_count",
    "resolve_count",
)


def upgrade() -> None:
    op.create_table(
        "credit_days",
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("report_in_micros", sa.BigInteger(), nullable=False),
        sa.Column("resolve_micros", sa.BigInteger(), nullable=False),
        sa.Column("grouping", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("grouping", "key", "day"),
        sqlite_with_rowid=False,
    )
    # The credits already kept are added up by day, as the writes will from now on.
    from store.credit_days import refill
    from store.credits import CREDITS

    refill(op.get_bind(), CREDITS)


def downgrade() -> None:
    op.drop_table("credit_days")
