"""api key management: last_used_at and what key management needs (issue 11)

Revision ID: 0010_api_key_management
Revises: 0009_notification_status_reason
"""

revision = "0010_api_key_management"
down_revision = "0009_notification_status_reason"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that needs it


def downgrade() -> None:
    pass
