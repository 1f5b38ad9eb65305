"""SQLite: a trigram index (FTS5) of what a text search reads, kept by triggers

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "cases_text"
"""As ``store.text_index.TABLE``."""


def searched(row: str) -> str:
    """``models.tables.SEARCHED_TEXT_SQL`` (as migration 0010 wrote it) of ``row``."""
    return f"(((({row}.title || '\n') || {row}.category) || '\n') || {row}.compound)"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" or not _fts5(bind):
        return  # PostgreSQL has its trigram index (0010); SQLite without FTS5 walks
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5(case_id UNINDEXED, searched, "
        "tokenize = 'trigram')"
    )
    op.execute(
        f"INSERT INTO {TABLE} (case_id, searched) SELECT case_id, {searched('cases')} FROM cases"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON cases BEGIN "
        f"INSERT INTO {TABLE} (case_id, searched) VALUES (new.case_id, {searched('new')}); END"
    )
    # Every upsert of a case sets its title again: only a change rewrites its text.
    op.execute(
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF case_id, title, category, compound "
        "ON cases WHEN old.case_id IS NOT new.case_id OR old.title IS NOT new.title "
        "OR old.category IS NOT new.category OR old.compound IS NOT new.compound BEGIN "
        f"DELETE FROM {TABLE} WHERE case_id = old.case_id; "
        f"INSERT INTO {TABLE} (case_id, searched) VALUES (new.case_id, {searched('new')}); END"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON cases BEGIN "
        f"DELETE FROM {TABLE} WHERE case_id = old.case_id; END"
    )


def _fts5(bind: sa.Connection) -> bool:
    found = bind.execute(sa.text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")).scalar()
    return bool(found)


def downgrade() -> None:
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{trigger}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
