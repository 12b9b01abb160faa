"""a notification's status_reason: why it ended failed (issue 11, stranded planning)

Revision ID: 0009_notification_status_reason
Revises: 0008_single_head
"""

revision = "0009_notification_status_reason"
down_revision = "0008_single_head"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that needs it


def downgrade() -> None:
    pass
