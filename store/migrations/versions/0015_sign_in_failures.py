"""wrong passwords counted by name and client (sign_in_failures) instead of on the
principal: a guesser elsewhere no longer locks a person out, nor learns which names
exist

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("name", AutoString(length=64), primary_key=True),
        sa.Column("client", AutoString(length=64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    # A lockout in force on a principal ends here: the new counts start afresh.
    with op.batch_alter_table("principals") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")


def downgrade() -> None:
    with op.batch_alter_table("principals") as batch_op:
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("sign_in_failures")
