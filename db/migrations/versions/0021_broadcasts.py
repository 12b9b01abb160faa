"""broadcasts and topics: one notification to a whole audience, walked in pages

Revision ID: 0021_broadcasts
Revises: 0020_daily_stats

- topics and topic_subscriptions: a tenant's named audiences (PUT/DELETE
  /v1/topics/{key}/subscribers); a recipient's topics through ix_topic_subscriptions_recipient.
- broadcasts: one row per POST /v1/broadcasts (unique per tenant and Idempotency-Key), its
  audience (listed recipients, a topic, or every recipient of the tenant), its status and its
  progress counters, which each page's transaction advances with the rows it wrote.
- broadcast_recipients: a listed audience (up to 10,000 recipients), walked by recipient id.
- notifications.broadcast_id: a broadcast's per-recipient notification (idempotency key
  "broadcast:<broadcast id>:<recipient id>", so a page written twice writes nothing twice), and
  the partial index its pages' sends and the deferred sweep read by.
- ix_recipients_tenant_id: a broadcast to every recipient of a tenant walks them by id (without
  it each page reads and sorts the rest of the tenant: quadratic in the audience).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021_broadcasts"
down_revision = "0020_daily_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_recipients_tenant_id", "recipients", ["tenant_id", "id"])
    op.create_table(
        "topics",
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key"),
    )
    op.create_table(
        "topic_subscriptions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("topic_key", sa.String(100), nullable=False),
        sa.Column(
            "recipient_id",
            sa.Uuid(),
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("tenant_id", "topic_key", "recipient_id"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "topic_key"], ["topics.tenant_id", "topics.key"], ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_topic_subscriptions_recipient", "topic_subscriptions", ["recipient_id", "topic_key"]
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("channels", postgresql.ARRAY(sa.String(10))),
        sa.Column("context", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("inbox_options", postgresql.JSONB()),
        sa.Column("audience_kind", sa.String(10), nullable=False),
        sa.Column("topic_key", sa.String(100)),
        sa.Column("send_at", sa.DateTime(timezone=True)),
        sa.Column("workflow_id", sa.String(600), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("total", sa.Integer()),
        sa.Column("planned", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("suppressed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("deferred", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cursor", sa.Uuid()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("tenant_id", "idempotency_key"),
    )
    op.create_index(
        "ix_broadcasts_tenant_created", "broadcasts", ["tenant_id", sa.text("created_at DESC")]
    )
    # The stranded-broadcasts sweep: stored but never started (services/stranded_broadcasts.py).
    op.create_index(
        "ix_broadcasts_unstarted",
        "broadcasts",
        ["created_at"],
        postgresql_where=sa.text("started_at IS NULL AND status IN ('scheduled', 'running')"),
    )
    op.create_table(
        "broadcast_recipients",
        sa.Column(
            "broadcast_id",
            sa.Uuid(),
            sa.ForeignKey("broadcasts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "recipient_id",
            sa.Uuid(),
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "recipient_id"),
    )
    op.add_column("notifications", sa.Column("broadcast_id", sa.Uuid()))
    op.create_foreign_key(
        "fk_notifications_broadcast",
        "notifications",
        "broadcasts",
        ["broadcast_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_notifications_broadcast",
        "notifications",
        ["broadcast_id", "recipient_id"],
        postgresql_where=sa.text("broadcast_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_broadcast", table_name="notifications")
    op.drop_constraint("fk_notifications_broadcast", "notifications", type_="foreignkey")
    op.drop_column("notifications", "broadcast_id")
    op.drop_table("broadcast_recipients")
    op.drop_index("ix_broadcasts_unstarted", table_name="broadcasts")
    op.drop_index("ix_broadcasts_tenant_created", table_name="broadcasts")
    op.drop_table("broadcasts")
    op.drop_index("ix_topic_subscriptions_recipient", table_name="topic_subscriptions")
    op.drop_table("topic_subscriptions")
    op.drop_table("topics")
    op.drop_index("ix_recipients_tenant_id", table_name="recipients")
