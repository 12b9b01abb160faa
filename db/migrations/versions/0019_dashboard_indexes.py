"""dashboard indexes: unfinished notifications, a recipient's latest, the inbox purges

Revision ID: 0019_dashboard_indexes
Revises: 0018_history_indexes

- ix_notifications_unfinished: a tenant's notifications not finished yet (accepted, scheduled,
  deferred, sending: domain.types.UNFINISHED_NOTIFICATION_STATUSES). The Health page's backlog
  counted them by reading every notification of the tenant, and the Scheduled page found its
  waiting ones through the second column of ix_notifications_recipient_status, the whole index;
  partial, so only the few unfinished rows are in it.
- ix_notifications_recipient_created: a recipient's newest notifications (the dashboard's
  recipient page shows the latest 20): read the recipient's every notification and sorted them
  (565 ms cold for a recipient with 50,000 notifications).
- ix_in_app_expires, ix_in_app_archived: the inbox purges (db/maintenance.py) find expired
  messages, and read messages archived long ago, instead of scanning every message; partial,
  so messages that never expire or are not archived are not in them.

The statuses are written out: a migration describes the schema as it was when it ran, whatever
the code's constants become (db/models.py mirrors them from the constant, and
tests/e2e/test_migrations.py checks the two agree). Built CONCURRENTLY (outside a transaction),
so a large table keeps taking writes meanwhile.
"""

from alembic import op

revision = "0019_dashboard_indexes"
down_revision = "0018_history_indexes"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_notifications_unfinished": (
        "notifications (tenant_id) WHERE status IN ('accepted', 'deferred', 'scheduled', 'sending')"
    ),
    "ix_notifications_recipient_created": "notifications (recipient_id, created_at DESC)",
    "ix_in_app_expires": "in_app_messages (expires_at) WHERE expires_at IS NOT NULL",
    "ix_in_app_archived": "in_app_messages (archived_at) WHERE archived_at IS NOT NULL",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
