"""push, chat and webhook channels: devices, chat addresses, the webhook channel, VAPID keys

Revision ID: 0022_channels
Revises: 0021_broadcasts

- devices: a recipient's push devices (web push subscriptions, FCM and APNs tokens); unique
  per tenant, kind and token digest; by recipient (every push send and plan reads a recipient's
  active ones, the devices API lists them newest first).
- recipients.chat_addresses: a recipient's Slack, Teams and Discord addresses.
- deliveries.address becomes text: a chat address or webhook URL can pass 320 characters
  (varchar to text is a catalogue change in PostgreSQL, no table rewrite).
- webhook_channels: a tenant's webhook channel (URL and sealed signing secret, and the previous
  secret, which also signs for a day after a rotation).
- vapid_keys: Herald's Web Push key pair, the private key sealed.
- templates.icon and template_versions.icon: a push template's icon URL (a template too).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022_channels"
down_revision = "0021_broadcasts"
branch_labels = None
depends_on = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "recipient_id",
            sa.Uuid(),
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        _timestamp("last_seen"),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deactivation_reason", sa.Text(), nullable=True),
        _timestamp("created_at"),
    )
    op.create_index(
        "uq_devices_token", "devices", ["tenant_id", "kind", "token_digest"], unique=True
    )
    op.create_index("ix_devices_recipient", "devices", ["recipient_id", "created_at"])
    op.add_column(
        "recipients",
        sa.Column(
            "chat_addresses",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.alter_column(
        "deliveries", "address", type_=sa.Text(), existing_type=sa.String(320), nullable=True
    )
    op.create_table(
        "webhook_channels",
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("previous_secret_sealed", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_table(
        "vapid_keys",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("private_key_sealed", sa.Text(), nullable=False),
        _timestamp("created_at"),
    )
    for table in ("templates", "template_versions"):
        op.add_column(table, sa.Column("icon", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in ("templates", "template_versions"):
        op.drop_column(table, "icon")
    op.drop_table("vapid_keys")
    op.drop_table("webhook_channels")
    op.alter_column(
        "deliveries", "address", type_=sa.String(320), existing_type=sa.Text(), nullable=True
    )
    op.drop_column("recipients", "chat_addresses")
    op.drop_index("ix_devices_recipient", table_name="devices")
    op.drop_index("uq_devices_token", table_name="devices")
    op.drop_table("devices")
