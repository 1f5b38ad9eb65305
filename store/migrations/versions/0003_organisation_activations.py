"""organisation activations: which organisation is in force, by a counted key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["organisations.version"]),
        sa.PrimaryKeyConstraint("id"),
    )
    # Organisations applied before: one activation each, in the order their clocks gave.
    op.execute(
        "INSERT INTO organisation_activations (version, activated_at)"
        " SELECT version, activated_at FROM organisations ORDER BY activated_at"
    )


def downgrade() -> None:
    op.drop_table("organisation_activations")
