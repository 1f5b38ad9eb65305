"""indexes for the workbench: the latest cases of a status; events of a kind

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_status_raised_at", "cases", ["status", "raised_at"])
    op.create_index("ix_case_events_kind_case_id", "case_events", ["kind", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_events_kind_case_id", table_name="case_events")
    op.drop_index("ix_cases_status_raised_at", table_name="cases")
