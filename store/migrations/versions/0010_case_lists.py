"""the case lists: an index per filter in the lists' order (keyset pagination); the
open cases' partial index (overdue); PostgreSQL's trigram index for a text search

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OPEN = "status IN ('awaiting_report_in', 'in_progress', 'joint_meeting', 'awaiting_confirmation')"
"""As ``models.tables.CaseRecord`` declares it (store.reads repeats it in its query)."""

TEXT_INDEX = "ix_cases_text_trgm"
SEARCHED_TEXT = "((((title || '\n') || category) || '\n') || compound)"
"""As ``models.tables.SEARCHED_TEXT_SQL`` declares it (the text search reads that very
expression): keep them in step."""


def upgrade() -> None:
    op.create_index("ix_cases_raised_at_case_id", "cases", ["raised_at", "case_id"])
    op.create_index("ix_cases_level_raised_at", "cases", ["level", "raised_at", "case_id"])
    op.create_index("ix_cases_compound_raised_at", "cases", ["compound", "raised_at", "case_id"])
    op.create_index(
        "ix_cases_open_raised_at",
        "cases",
        ["raised_at", "case_id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _trigrams_available(bind):
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX {TEXT_INDEX} ON cases USING gin ({SEARCHED_TEXT} gin_trgm_ops)")
    else:
        # SQLite has no trigram index (a search scans, bounded by the page): the index
        # the models declare is kept empty, so that the schema still matches them.
        op.execute(f"CREATE INDEX {TEXT_INDEX} ON cases ({SEARCHED_TEXT}) WHERE 0 = 1")


def _trigrams_available(bind: sa.Connection) -> bool:
    """pg_trgm ships with PostgreSQL (contrib); without it a text search scans, bounded
    by the page's size, as on SQLite."""
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    return found is not None


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {TEXT_INDEX}")
    op.drop_index("ix_cases_open_raised_at", table_name="cases")
    op.drop_index("ix_cases_compound_raised_at", table_name="cases")
    op.drop_index("ix_cases_level_raised_at", table_name="cases")
    op.drop_index("ix_cases_raised_at_case_id", table_name="cases")
