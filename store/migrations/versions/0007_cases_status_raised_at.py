"""cases: an index on (status, raised_at), for the latest cases of a status

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


def downgrade() -> None:
    op.drop_index("ix_cases_status_raised_at", table_name="cases")
