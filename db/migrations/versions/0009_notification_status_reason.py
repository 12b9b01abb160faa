"""a notification's status_reason, and the addresses it was accepted for (issue 11)

Revision ID: 0009_notification_status_reason
Revises: 0008_single_head

- `status_reason`: why a notification ended as it did when no channel says so, e.g. a planning
  step that could never succeed (stored state it cannot read) or kept failing past its retry
  bound. Shown by GET /v1/notifications/{id} and /v1/logs.
- `recipient_email`, `recipient_phone`: the recipient's addresses when the notification was
  accepted, written in the statement that accepted it. Planning sends to these, so a later
  write to the recipient (another request's inline contact details, a PUT) cannot redirect a
  notification already accepted. NULL on rows from before: planning then reads the
  recipient's, as it always did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_notification_status_reason"
down_revision = "0008_single_head"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("status_reason", sa.Text(), nullable=True))
    op.add_column("notifications", sa.Column("recipient_email", sa.String(320), nullable=True))
    op.add_column("notifications", sa.Column("recipient_phone", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "recipient_phone")
    op.drop_column("notifications", "recipient_email")
    op.drop_column("notifications", "status_reason")
