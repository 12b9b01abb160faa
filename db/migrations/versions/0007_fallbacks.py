"""channel fallback rules per event key, in the tenant's delivery-policy settings

Revision ID: 0007_fallbacks
Revises: 0001 (needs 0004_delivery_policy)
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_fallbacks"
down_revision = "0001"
branch_labels = None
depends_on = "0004_delivery_policy"


def upgrade() -> None:
    op.add_column(
        "tenant_policy_settings",
        sa.Column("fallbacks", postgresql.JSONB(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_column("tenant_policy_settings", "fallbacks")
