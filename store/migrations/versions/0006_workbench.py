"""the workbench: passwords and lockout, sessions, uploaded evidence

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every principal added before signs in with tokens only until given a password.
    op.add_column("principals", sa.Column("password_hash", AutoString(length=200), nullable=True))
    op.add_column(
        "principals",
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "principals", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "web_sessions",
        sa.Column("key_hash", AutoString(length=64), primary_key=True),
        sa.Column("principal", AutoString(length=64), nullable=False),
        sa.Column("csrf", AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_principal", "web_sessions", ["principal"])
    op.create_table(
        "evidence_files",
        sa.Column("sha256", AutoString(length=64), primary_key=True),
        sa.Column("case_id", AutoString(length=100), primary_key=True),
        sa.Column("content_type", AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("name", AutoString(length=200), nullable=False),
        sa.Column("uploaded_by", AutoString(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("evidence_files")
    op.drop_index("ix_web_sessions_principal", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("principals") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")
        batch_op.drop_column("password_hash")
