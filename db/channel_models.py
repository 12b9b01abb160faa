"""Tables of the push, chat and webhook channels (migration 0022): recipients' devices, each
tenant's webhook channel, and Herald's VAPID key pair for Web Push."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, now_column


class Device(Base):
    """A device a recipient receives push on. `kind` is a domain.devices.DeviceKind; `token`
    the FCM or APNs token, or the Web Push subscription (JSON: endpoint and keys). A token is
    one device: registering it again (for whichever recipient of the tenant) moves it there and
    makes it active again. A gone device (the push service said so) stays, inactive, with why."""

    __tablename__ = "devices"
    __table_args__ = (
        # The same token of the same kind is one device per tenant; by its digest, since a
        # web push subscription is longer than an index entry should be.
        Index("uq_devices_token", "tenant_id", "kind", "token_digest", unique=True),
        # A recipient's devices: the active ones a send and a plan read, all of them listed
        # newest first, and the cascade when the recipient is deleted (a handful each).
        Index("ix_devices_recipient", "recipient_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(Text)
    token_digest: Mapped[str] = mapped_column(String(64))  # sha256 hex of token
    label: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    last_seen: Mapped[datetime] = now_column()
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deactivation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()


class WebhookChannel(Base):
    """A tenant's webhook channel: notifications on channel `webhook` are POSTed to `url`,
    signed (Standard Webhooks) with the secret, sealed at rest
    (services/inbox_secrets.SecretBox)."""

    __tablename__ = "webhook_channels"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text)
    secret_sealed: Mapped[str] = mapped_column(Text)
    # After a rotation the previous secret also signs, until it expires (receivers switch
    # over without a gap: Standard Webhooks carries several signatures).
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class VapidKey(Base):
    """Herald's VAPID key pair (RFC 8292), made on first need: one row, id 1. The private key
    is sealed at rest; the public key is served to browsers (the widget subscribes with it)."""

    __tablename__ = "vapid_keys"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    public_key: Mapped[str] = mapped_column(Text)  # base64url, uncompressed P-256 point
    private_key_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()
