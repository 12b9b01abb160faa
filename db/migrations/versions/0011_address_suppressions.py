"""a suppression list per tenant and address (issue 11, unsubscribe follows the address)

Revision ID: 0011_address_suppressions
Revises: 0010_api_key_management

One row per tenant, channel, normalised address and category an address unsubscribed from;
planning reads it by the primary key's prefix (tenant, channel, address).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_address_suppressions"
down_revision = "0010_api_key_management"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_suppressions",
        sa.Column(
            "tenant_id",
            sa.UUID(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("category", sa.String(200), primary_key=True),
        sa.Column(
            "recipient_id",
            sa.UUID(),
            sa.ForeignKey("recipients.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_table("address_suppressions")
