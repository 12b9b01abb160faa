"""delivery policy: tenant policy settings and send counters

Revision ID: 0004_delivery_policy
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_delivery_policy"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_policy_settings",
        sa.Column(
            "tenant_id",
            sa.UUID(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("reminder_event_keys", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("urgent_bypass", postgresql.JSONB(), nullable=False, server_default="{}"),
    )
    op.create_table(
        "send_counters",
        sa.Column(
            "recipient_id",
            sa.UUID(),
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_notifications_recipient_status", "notifications", ["recipient_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_recipient_status", table_name="notifications")
    op.drop_table("send_counters")
    op.drop_table("tenant_policy_settings")
