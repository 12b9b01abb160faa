"""channel fallback rules per event key, in the tenant's delivery-policy settings

Revision ID: 0007_fallbacks
Revises: 0004_delivery_policy

It adds a column to tenant_policy_settings, created by 0004. It used to revise 0001 with
depends_on = "0004_delivery_policy"; see 0005_tracking for why that is now its down_revision
(the same order, so existing databases are unaffected).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_fallbacks"
down_revision = "0004_delivery_policy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenant_policy_settings",
        sa.Column("fallbacks", postgresql.JSONB(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_column("tenant_policy_settings", "fallbacks")
