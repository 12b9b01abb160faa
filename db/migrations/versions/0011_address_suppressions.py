"""a suppression list per tenant and address (issue 11, unsubscribe follows the address)

Revision ID: 0011_address_suppressions
Revises: 0010_api_key_management
"""

revision = "0011_address_suppressions"
down_revision = "0010_api_key_management"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that needs it


def downgrade() -> None:
    pass
