"""delivery tracking: seen provider events, invalid addresses, the stats index on deliveries

Revision ID: 0005_tracking
Revises: 0002_templates

Its stats index covers deliveries.template_version_id, added by 0002. It used to revise 0001
with depends_on = "0002_templates"; that made 0002 a second head that no merge revision
can absorb (Alembic counts a revision named only in depends_on as a head, and fails to merge
it once the dependency consumed its alembic_version row). Both say "0002, then 0005", so
every database's alembic_version rows mean what they meant before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_tracking"
down_revision = "0002_templates"
branch_labels = None
depends_on = None


def _now(name: str) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


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
        sa.Column(
            "tenant_id", sa.UUID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
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
            postgresql_include=[
                "status",
                "channel",
                "provider",
                "template_version_id",
                "notification_id",
            ],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_deliveries_stats", table_name="deliveries", postgresql_concurrently=True)
    op.drop_table("invalid_addresses")
    op.drop_table("seen_provider_events")
