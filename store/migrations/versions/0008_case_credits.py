"""the assessment's credits, kept by the projection; filled from the ledger

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COUNTS = (
    "dispatches",
    "escalations",
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
    "report_in_count",
    "resolve_count",
)
_RATED = ("cases", *_COUNTS[2:14])
"""district_hours: cases, and the units and hits of every measure."""


def upgrade() -> None:
    op.create_table(
        "case_credits",
        sa.Column("grouping", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("compound", sa.String(200), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("report_in_micros", sa.BigInteger(), nullable=False),
        sa.Column("resolve_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("grouping", "key", "raised_at", "case_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_case_credits_case_id", "case_credits", ["case_id"])
    op.create_table(
        "case_credit_times",
        sa.Column("grouping", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("measure", sa.String(20), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("grouping", "key", "measure", "raised_at", "case_id", "ordinal"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_case_credit_times_case_id", "case_credit_times", ["case_id"])
    op.create_table(
        "credit_keys",
        sa.Column("grouping", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("grouping", "key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "district_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _RATED),
        sa.PrimaryKeyConstraint("hour"),
    )
    # The cases already projected are credited from their ledger, as a write would.
    from store.credits import rebuild_on

    rebuild_on(op.get_bind(), days=False)  # the groups' days come with 0011


def downgrade() -> None:
    op.drop_table("district_hours")
    op.drop_table("credit_keys")
    op.drop_index("ix_case_credit_times_case_id", table_name="case_credit_times")
    op.drop_table("case_credit_times")
    op.drop_index("ix_case_credits_case_id", table_name="case_credits")
    op.drop_table("case_credits")
