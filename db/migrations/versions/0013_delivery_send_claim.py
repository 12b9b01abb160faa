"""a send's claim on its delivery: deliveries.send_claimed_until

Revision ID: 0013_delivery_send_claim
Revises: 0012_tenant_email_identity

An attempt claims its delivery before calling the provider, until its own timeout has passed:
a second attempt of the same send (a workflow task that timed out on a busy worker and ran its
local first attempt again) finds the claim and waits instead of sending the message twice.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_delivery_send_claim"
down_revision = "0012_tenant_email_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "deliveries", sa.Column("send_claimed_until", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("deliveries", "send_claimed_until")
