"""policy activations: which policy is in force, by a counted key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["policies.version"]),
        sa.PrimaryKeyConstraint("id"),
    )
    # Policies put in force before: one activation each, in the order their clocks gave.
    op.execute(
        "INSERT INTO policy_activations (version, activated_at)"
        " SELECT version, activated_at FROM policies ORDER BY activated_at"
    )


def downgrade() -> None:
    op.drop_table("policy_activations")
