"""notifications delivered: each through its channels, with retries and dead letters;
the units' duty rosters

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 00:00:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BEFORE_DELIVERIES = "queued before notifications were delivered"


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(_when("planned_at"))
        batch.add_column(sa.Column("routes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("unsent_why", sa.String(200), nullable=True))
    op.create_index("ix_notifications_planned_at", "notifications", ["planned_at"])
    op.create_index("ix_notifications_at", "notifications", ["at"])
    # The outbox so far was never meant to be sent: listed as such, not queued ahead
    # of the first new whistle.
    notifications = sa.table(
        "notifications",
        sa.column("planned_at", sa.DateTime(timezone=True)),
        sa.column("routes", sa.Integer()),
        sa.column("unsent_why", sa.String(200)),
    )
    op.execute(
        notifications.update().values(
            planned_at=datetime.now(UTC), routes=0, unsent_why=BEFORE_DELIVERIES
        )
    )
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("notification_key", sa.String(300), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at", nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        _when("lease_until"),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("created_at", nullable=False),
        _when("delivered_at"),
        _when("failed_at"),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    op.create_index("ix_deliveries_notification_key", "deliveries", ["notification_key"])
    op.create_index("ix_deliveries_case_id", "deliveries", ["case_id"])
    op.create_index("ix_deliveries_created_at", "deliveries", ["created_at"])
    op.create_index(
        "ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"]
    )
    op.create_table(
        "channel_windows",
        sa.Column("channel", sa.String(64), nullable=False),
        _when("window_start", nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("days", sa.String(40), nullable=False),
        sa.Column("starts", sa.String(5), nullable=False),
        sa.Column("ends", sa.String(5), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        _when("set_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_shifts_unit", "duty_shifts", ["unit"])


def downgrade() -> None:
    op.drop_index("ix_duty_shifts_unit", table_name="duty_shifts")
    op.drop_table("duty_shifts")
    op.drop_table("channel_windows")
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")
    op.drop_index("ix_deliveries_created_at", table_name="deliveries")
    op.drop_index("ix_deliveries_case_id", table_name="deliveries")
    op.drop_index("ix_deliveries_notification_key", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_notifications_at", table_name="notifications")
    op.drop_index("ix_notifications_planned_at", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("unsent_why")
        batch.drop_column("routes")
        batch.drop_column("planned_at")
