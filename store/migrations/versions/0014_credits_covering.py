"""PostgreSQL: the credits' compounds and times in indexes of their own (index-only
reads of a period); kept empty on SQLite, whose rows are their keys

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

EMPTY = sa.text("0 = 1")


def upgrade() -> None:
    op.create_index(
        "ix_case_credits_compounds",
        "case_credits",
        ["grouping", "key", "raised_at"],
        postgresql_include=["compound"],
        sqlite_where=EMPTY,
    )
    op.create_index(
        "ix_case_credit_times_micros",
        "case_credit_times",
        ["grouping", "key", "measure", "raised_at"],
        postgresql_include=["micros"],
        sqlite_where=EMPTY,
    )


def downgrade() -> None:
    op.drop_index("ix_case_credit_times_micros", table_name="case_credit_times")
    op.drop_index("ix_case_credits_compounds", table_name="case_credits")
