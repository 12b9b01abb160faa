"""per-tenant From name, From address and Reply-To (issue 11, email headers)

Revision ID: 0012_tenant_email_identity
Revises: 0011_address_suppressions
"""

revision = "0012_tenant_email_identity"
down_revision = "0011_address_suppressions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that needs it


def downgrade() -> None:
    pass
