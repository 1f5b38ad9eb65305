"""the case lists: a branch's own compound by its index (in lower case); the open
cases' index holds their status and deadlines (overdue judged from the index)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPEN = "status IN ('awaiting_report_in', 'in_progress', 'joint_meeting', 'awaiting_confirmation')"
"""As migration 0010 wrote it and ``models.tables.CaseRecord`` declares it."""
JUDGED = ["status", "report_in_deadline", "resolve_deadline", "confirmation_deadline"]


def upgrade() -> None:
    op.create_index(
        "ix_cases_compound_folded", "cases", [sa.text("lower(compound)"), "raised_at", "case_id"]
    )
    _open_index(["raised_at", "case_id", *JUDGED])


def _open_index(columns: list[str]) -> None:
    op.drop_index("ix_cases_open_raised_at", table_name="cases")
    op.create_index(
        "ix_cases_open_raised_at",
        "cases",
        columns,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    _open_index(["raised_at", "case_id"])
    op.drop_index("ix_cases_compound_folded", table_name="cases")
