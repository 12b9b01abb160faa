"""the in-app inbox: message state, a per-recipient event log for live streams, signing secrets

Revision ID: 0015_inbox
Revises: 0014_tenant_retry_window

- notifications.inbox_options: what the sender asked of the in-app message (tags, expiry).
- in_app_messages gains what an end user's inbox shows and filters on: seen_at, snoozed_until,
  category (the notification's event key) and tags.
- inbox_events: every change to a recipient's inbox (a new message, read, archived, snoozed,
  woken, deleted), numbered per recipient by inbox_cursors.last_seq. The number is the stream's
  event id: a reconnecting client sends the last one it saw (Last-Event-ID) and receives exactly
  the events after it. Numbering per recipient under a row lock keeps the numbers in commit order,
  which a global sequence would not.
- inbox_signing_secrets: a tenant's secrets for recipient tokens (JWT HS256, `kid` names the
  secret); two can be valid at once during a rotation.
- tenant_inbox_settings: the origins a tenant's pages may call the inbox from, whether the HMAC
  scheme is enabled, and how long Herald-issued tokens live.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0015_inbox"
down_revision = "0014_tenant_retry_window"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # What a notification asks of its in-app message: {"tags": [...], "expires_at": "..."}.
    op.add_column("notifications", sa.Column("inbox_options", JSONB(), nullable=True))
    op.add_column("in_app_messages", sa.Column("seen_at", _TZ, nullable=True))
    op.add_column("in_app_messages", sa.Column("snoozed_until", _TZ, nullable=True))
    op.add_column("in_app_messages", sa.Column("category", sa.String(200), nullable=True))
    op.add_column(
        "in_app_messages",
        sa.Column("tags", ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'")),
    )
    # The feed and the counts read one recipient's live messages, newest first.
    op.create_index(
        "ix_in_app_recipient_feed",
        "in_app_messages",
        ["recipient_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )

    op.create_table(
        "inbox_cursors",
        sa.Column(
            "recipient_id",
            UUID(as_uuid=True),
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "inbox_events",
        sa.Column(
            "recipient_id",
            UUID(as_uuid=True),
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column(
            "tenant_id",
            UUID(as_uuid=True),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("data", JSONB(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("ix_inbox_events_created", "inbox_events", ["created_at"])

    op.create_table(
        "inbox_signing_secrets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "tenant_id",
            UUID(as_uuid=True),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kid", sa.String(40), nullable=False, unique=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False, server_default=sa.text("now()")),
        # Set when a newer secret replaces this one: valid until then (the rotation's overlap).
        sa.Column("expires_at", _TZ, nullable=True),
        sa.Column("revoked_at", _TZ, nullable=True),
    )
    op.create_index("ix_inbox_signing_secrets_tenant", "inbox_signing_secrets", ["tenant_id"])

    op.create_table(
        "tenant_inbox_settings",
        sa.Column(
            "tenant_id",
            UUID(as_uuid=True),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("allowed_origins", JSONB(), nullable=False, server_default="[]"),
        sa.Column("hmac_enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("token_ttl_seconds", sa.Integer(), nullable=False, server_default="3600"),
        sa.Column("updated_at", _TZ, nullable=False, server_default=sa.text("now()")),
    )


def downgrade() -> None:
    op.drop_table("tenant_inbox_settings")
    op.drop_index("ix_inbox_signing_secrets_tenant", table_name="inbox_signing_secrets")
    op.drop_table("inbox_signing_secrets")
    op.drop_index("ix_inbox_events_created", table_name="inbox_events")
    op.drop_table("inbox_events")
    op.drop_table("inbox_cursors")
    op.drop_index("ix_in_app_recipient_feed", table_name="in_app_messages")
    for column in ("tags", "category", "snoozed_until", "seen_at"):
        op.drop_column("in_app_messages", column)
    op.drop_column("notifications", "inbox_options")
