"""delivery tracking: seen provider events, invalid addresses, the stats index on deliveries

Revision ID: 0005_tracking
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_tracking"
down_revision = "0001"
branch_labels = None
depends_on = "0002_templates"  # its stats index covers deliveries.template_version_id


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "seen_provider_events",
        sa.Column("provider", sa.String(30), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        _now("received_at"),
    )
    op.create_table(
        "invalid_addresses",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("tenant_id", sa.UUID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _now("created_at"),
    )
    op.create_index(
        "uq_invalid_addresses_tenant_channel_address",
        "invalid_addresses",
        ["tenant_id", "channel", sa.text("lower(address)")],
        unique=True,
    )
    # deliveries is the biggest table: build the index without blocking writes, which
    # CONCURRENTLY can only do outside a transaction (so a rerun after a later step
    # failed finds it built: IF NOT EXISTS).
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_deliveries_stats",
            "deliveries",
            ["tenant_id", "created_at"],
            postgresql_include=["status", "channel", "provider", "template_version_id", "notification_id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_deliveries_stats", table_name="deliveries", postgresql_concurrently=True)
    op.drop_table("invalid_addresses")
    op.drop_table("seen_provider_events")
