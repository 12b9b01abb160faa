"""failover: providers tried per delivery, circuit states, channel fallback rules

Revision ID: 0006_failover
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_failover"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("failover_log", postgresql.JSONB(), nullable=True))
    op.add_column("deliveries", sa.Column("resent_from_id", sa.UUID(), nullable=True))
    op.create_table(
        "provider_circuits",
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )


def downgrade() -> None:
    op.drop_table("provider_circuits")
    op.drop_column("deliveries", "resent_from_id")
    op.drop_column("deliveries", "failover_log")
