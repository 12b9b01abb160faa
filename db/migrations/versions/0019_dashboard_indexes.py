"""indexes for the dashboard's pages at a million rows (placeholder: filled in by its owner)

Revision ID: 0019_dashboard_indexes
Revises: 0018_history_indexes
"""

revision = "0019_dashboard_indexes"
down_revision = "0018_history_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
