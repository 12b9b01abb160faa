"""a tenant's retry window: tenant_policy_settings.retry_window_minutes

Revision ID: 0014_tenant_retry_window
Revises: 0013_delivery_send_claim

How long a failing send keeps being retried for that tenant's notifications; NULL: Herald's
DELIVERY_MAX_RETRY_SECONDS (an hour).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_tenant_retry_window"
down_revision = "0013_delivery_send_claim"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenant_policy_settings", sa.Column("retry_window_minutes", sa.Integer(), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("tenant_policy_settings", "retry_window_minutes")
