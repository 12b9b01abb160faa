"""per-tenant From name, From address and Reply-To (issue 11, email headers)

Revision ID: 0012_tenant_email_identity
Revises: 0011_address_suppressions

One row per tenant that has set any of them; a missing row or a null column means Herald's
default (EMAIL_FROM; no Reply-To).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_tenant_email_identity"
down_revision = "0011_address_suppressions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_email_identities",
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("from_name", sa.String(100), nullable=True),
        sa.Column("from_address", sa.String(254), nullable=True),
        sa.Column("reply_to", sa.String(254), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("tenant_email_identities")
