"""integrations: outbound status webhooks, consent history, erasures

Revision ID: 0023_integrations
Revises: 0022_channels

- webhook_endpoints: a tenant's receivers of status events (URL, event types, sealed signing
  secret and a rotation's previous one, enabled or disabled and why, failing since when).
- webhook_outbox: events waiting for their delivery workflows, written in the transaction of
  the change they report (triggers on deliveries, notifications and broadcasts, which NOTIFY
  herald_webhook_outbox).
- webhook_messages and webhook_attempts: each event sent to each endpoint (its webhook-id,
  payload and status) and every attempt with its answer.
- consent_events: each opt-in and opt-out of a recipient, with its source.
- erasures: who erased which (anonymous) recipient when, and what was removed.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023_integrations"
down_revision = "0022_channels"
branch_labels = None
depends_on = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _tenant() -> sa.Column:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _jsonb(name: str) -> sa.Column:
    return sa.Column(
        name, postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
    )


def upgrade() -> None:
    # A person's bookings as invitee, and the suppressions that came through them: read by
    # their export and erasure.
    op.create_index(
        "ix_bookings_invitee_email", "bookings", ["tenant_id", sa.text("lower(invitee_email)")]
    )
    op.create_index("ix_address_suppressions_recipient", "address_suppressions", ["recipient_id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("event_types", sa.ARRAY(sa.String(40)), server_default="{}", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("previous_secret_sealed", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_index("ix_webhook_endpoints_tenant", "webhook_endpoints", ["tenant_id", "created_at"])
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _tenant(),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        _timestamp("occurred_at"),
    )
    op.create_table(
        "webhook_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column(
            "endpoint_id",
            sa.Uuid(),
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        _timestamp("created_at"),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_webhook_messages_subject", "webhook_messages", ["subject_id"])
    op.create_index(
        "ix_webhook_messages_endpoint",
        "webhook_messages",
        ["endpoint_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "message_id",
            sa.Uuid(),
            sa.ForeignKey("webhook_messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _timestamp("attempted_at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_webhook_attempts_message", "webhook_attempts", ["message_id", "attempted_at"]
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _tenant(),
        sa.Column(
            "recipient_id",
            sa.Uuid(),
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(10), nullable=True),
        sa.Column("scope", sa.String(200), nullable=True),
        sa.Column("source", sa.String(30), nullable=False),
        _jsonb("details"),
        _timestamp("at"),
    )
    op.create_index(
        "ix_consent_events_recipient", "consent_events", ["recipient_id", sa.text("at DESC")]
    )
    op.create_table(
        "erasures",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        _timestamp("requested_at"),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        _jsonb("removed"),
    )
    op.create_index("ix_erasures_tenant", "erasures", ["tenant_id", sa.text("requested_at DESC")])
    _create_status_webhook_triggers()


# Status webhooks' events (domain/status_webhooks.SUBJECT_EVENTS; tests/e2e/
# test_status_webhooks.py checks these agree with it): a subject entering one of these statuses
# writes `<subject>.<status>` to webhook_outbox, in the transaction of the change, when its
# tenant has an enabled endpoint subscribed to it (no event types: every one), and NOTIFYs the
# dispatcher (services/status_webhook_dispatcher.py), once per transaction and channel.
_EVENTS = {
    "deliveries": ("delivery", ("sent", "delivered", "failed", "bounced", "opened", "clicked")),
    "notifications": ("notification", ("deferred",)),
    "broadcasts": ("broadcast", ("completed",)),
}
_OUTBOX_FUNCTION = """
CREATE FUNCTION webhook_outbox_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event text := TG_ARGV[0] || '.' || NEW.status;
BEGIN
    IF EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.tenant_id = NEW.tenant_id AND e.enabled
          AND (cardinality(e.event_types) = 0 OR event = ANY (e.event_types))
    ) THEN
        INSERT INTO webhook_outbox (tenant_id, event_type, subject_id)
        VALUES (NEW.tenant_id, event, NEW.id);
        PERFORM pg_notify('herald_webhook_outbox', '');
    END IF;
    RETURN NULL;
END
$$
"""


def _create_status_webhook_triggers() -> None:
    op.execute(_OUTBOX_FUNCTION)
    for table, (subject, statuses) in _EVENTS.items():
        listed = ", ".join(f"'{status}'" for status in statuses)
        op.execute(
            f"CREATE TRIGGER {table}_webhook_status AFTER UPDATE OF status ON {table} "
            f"FOR EACH ROW WHEN (NEW.status IN ({listed}) AND NEW.status IS DISTINCT FROM "
            f"OLD.status) EXECUTE FUNCTION webhook_outbox_event('{subject}')"
        )
        if table != "broadcasts":  # a broadcast is never written finished
            op.execute(
                f"CREATE TRIGGER {table}_webhook_insert AFTER INSERT ON {table} "
                f"FOR EACH ROW WHEN (NEW.status IN ({listed})) "
                f"EXECUTE FUNCTION webhook_outbox_event('{subject}')"
            )
    # The dispatcher's sweep: pending messages by when their next attempt is due.
    op.create_index(
        "ix_webhook_messages_pending",
        "webhook_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def _drop_status_webhook_triggers() -> None:
    op.drop_index("ix_webhook_messages_pending", table_name="webhook_messages")
    for table in _EVENTS:
        op.execute(f"DROP TRIGGER {table}_webhook_status ON {table}")
        if table != "broadcasts":
            op.execute(f"DROP TRIGGER {table}_webhook_insert ON {table}")
    op.execute("DROP FUNCTION webhook_outbox_event()")


def downgrade() -> None:
    op.drop_index("ix_address_suppressions_recipient", table_name="address_suppressions")
    op.drop_index("ix_bookings_invitee_email", table_name="bookings")
    _drop_status_webhook_triggers()
    op.drop_index("ix_erasures_tenant", table_name="erasures")
    op.drop_table("erasures")
    op.drop_index("ix_consent_events_recipient", table_name="consent_events")
    op.drop_table("consent_events")
    op.drop_index("ix_webhook_attempts_message", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_messages_endpoint", table_name="webhook_messages")
    op.drop_index("ix_webhook_messages_subject", table_name="webhook_messages")
    op.drop_table("webhook_messages")
    op.drop_table("webhook_outbox")
    op.drop_index("ix_webhook_endpoints_tenant", table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
