"""api key management: last_used_at and what key management needs (issue 11)

Revision ID: 0010_api_key_management
Revises: 0009_notification_status_reason
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_api_key_management"
down_revision = "0009_notification_status_reason"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written at most once a minute per key and API process (services/auth.py), never per request.
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    # A tenant's keys are listed, and its active ones counted before a revocation.
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_tenant", table_name="api_keys")
    op.drop_column("api_keys", "last_used_at")
