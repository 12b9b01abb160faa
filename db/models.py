"""Tables. Every row that belongs to a tenant carries `tenant_id`, and every query filters on it."""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    ARRAY,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain.types import UNFINISHED_NOTIFICATION_STATUSES


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONB,
        uuid.UUID: UUID(as_uuid=True),
    }


def table_of(entity: type[Base]) -> Table:
    """The entity's table, for Core statements. Declarative types `__table__` as any FromClause
    (a class may be mapped to a subquery, say); every entity here is mapped to a table."""
    table = entity.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{entity.__name__} is not mapped to a table")
    return table


def now_column() -> Mapped[datetime]:
    """A timestamp column the database fills in with the time of the insert."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    operations_email: Mapped[str | None] = mapped_column(String(320))
    preference_defaults: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = now_column()


class ApiKey(Base):
    """Only a SHA-256 digest of the key is stored; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant", "tenant_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))  # lets an operator tell keys apart
    name: Mapped[str] = mapped_column(String(200), default="default")
    created_at: Mapped[datetime] = now_column()
    # In the future while a rotated key's grace period runs: the key works until then.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # To the minute, not per request (services/auth.py).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Recipient(Base):
    __tablename__ = "recipients"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        # Migration 0021: a broadcast to every recipient of a tenant walks them by id.
        Index("ix_recipients_tenant_id", "tenant_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    locale: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    # Only the fields this recipient changed; the tenant's defaults fill in the rest.
    preference_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # Chat addresses by platform (migration 0022): {"slack": "U123" | "#general" | webhook URL,
    # "teams": webhook URL, "discord": webhook URL}; domain/chat.py checks them.
    chat_addresses: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_notifications_tenant_created", "tenant_id", "created_at"),
        # Migration 0019: a tenant's backlog (Health) and waiting notifications (Scheduled),
        # and a recipient's newest notifications (the dashboard's recipient page).
        Index(
            "ix_notifications_unfinished",
            "tenant_id",
            postgresql_where=column("status", String).in_(
                sorted(str(status) for status in UNFINISHED_NOTIFICATION_STATUSES)
            ),
        ),
        Index("ix_notifications_recipient_created", "recipient_id", text("created_at DESC")),
        # Migration 0021: a broadcast's notifications, by recipient (its pages, its sweeps).
        Index(
            "ix_notifications_broadcast",
            "broadcast_id",
            "recipient_id",
            postgresql_where=text("broadcast_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(10))
    channels: Mapped[list[str] | None] = mapped_column(ARRAY(String(10)))  # None: from preferences
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    workflow_id: Mapped[str] = mapped_column(String(600))
    status: Mapped[str] = mapped_column(String(20))
    # Why it ended as it did when no channel says so (a planning step that could not succeed).
    status_reason: Mapped[str | None] = mapped_column(Text)
    # The recipient's addresses when it was accepted: what planning sends to (migration 0009).
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    recipient_phone: Mapped[str | None] = mapped_column(String(16))
    # What the sender asked of the in-app message: {"tags": [...], "expires_at": "..."}.
    inbox_options: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The broadcast this notification is one recipient's part of (migration 0021).
    broadcast_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL", name="fk_notifications_broadcast")
    )
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class Delivery(Base):
    """One channel's attempt chain for one notification: every retry updates this row."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_deliveries_notification", "notification_id"),
        Index("ix_deliveries_provider_message", "provider", "provider_message_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(10))
    provider: Mapped[str | None] = mapped_column(String(30))
    # An email address, a phone number, a chat address ("slack:U123", a Teams or Discord
    # webhook URL after its prefix) or the webhook channel's URL: text (migration 0022).
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    status_reason: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    subject: Mapped[str | None] = mapped_column(Text)
    deferred_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_response: Mapped[dict[str, Any] | None] = mapped_column()
    template_version_id: Mapped[uuid.UUID | None] = mapped_column()  # template_versions.id
    # Providers this delivery moved away from, in order: [{provider, moved_to, reason, at}].
    failover_log: Mapped[list[Any] | None] = mapped_column(JSONB)
    resent_from_id: Mapped[uuid.UUID | None] = mapped_column()  # the delivery a resend repeats
    # An attempt calling the provider holds the delivery until then
    # (db.deliveries.load_and_claim_delivery_job).
    send_claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class ProviderCircuit(Base):
    """The last circuit-breaker transition any worker recorded for a provider."""

    __tablename__ = "provider_circuits"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = now_column()


class InAppMessage(Base):
    __tablename__ = "in_app_messages"
    __table_args__ = (
        Index("ix_in_app_recipient_created", "recipient_id", "created_at"),
        Index("ix_in_app_recipient_feed", "recipient_id", text("created_at DESC"), text("id DESC")),
        # Migration 0019: the inbox purges (db/maintenance.py), expired and archived messages.
        Index("ix_in_app_expires", "expires_at", postgresql_where=text("expires_at IS NOT NULL")),
        Index(
            "ix_in_app_archived", "archived_at", postgresql_where=text("archived_at IS NOT NULL")
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the delivery id: retries upsert
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    action_url: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()
