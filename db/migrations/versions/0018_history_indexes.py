"""history indexes: a delivery's resend, failed deliveries, recipients by what is typed

Revision ID: 0018_history_indexes
Revises: 0016_operators

- ix_deliveries_resent_from: the resend made from a delivery (deliveries.resent_from_id). Resending
  looked for one with a scan of the whole table (145 ms at a million deliveries, for each
  delivery a bulk resend resends); partial, so only resends are in it.
- ix_deliveries_failed: failed and bounced deliveries by tenant and time (partial: a few percent
  of the rows). Resending every failed delivery a filter matches, and History's failed and
  bounced lists, read these instead of every delivery of the time range (a sequential scan of
  the whole table at a million deliveries, 390 ms, for a 90-day range of the largest tenant).
- recipients by the start of their external id, email or phone, case-insensitively
  (text_pattern_ops: LIKE 'ada%' uses them in any collation), and by the words of their name
  (full text, the 'simple' configuration: no stemming, any language): the dashboard's History
  search and the Send page's recipient search (db/recipient_search.py) at a million deliveries.

Built CONCURRENTLY (outside a transaction), so a large table keeps taking writes meanwhile.
"""

from alembic import op

revision = "0018_history_indexes"
down_revision = "0016_operators"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_deliveries_resent_from": "deliveries (resent_from_id) WHERE resent_from_id IS NOT NULL",
    "ix_deliveries_failed": (
        "deliveries (tenant_id, created_at, id) WHERE status IN ('failed', 'bounced')"
    ),
    "ix_recipients_external_id_prefix": (
        "recipients (tenant_id, lower(external_id) text_pattern_ops)"
    ),
    "ix_recipients_email_prefix": "recipients (tenant_id, lower(email) text_pattern_ops)",
    "ix_recipients_phone_prefix": "recipients (tenant_id, phone text_pattern_ops)",
    "ix_recipients_name_words": (
        "recipients USING gin (to_tsvector('simple', coalesce(name, '')))"
    ),
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
