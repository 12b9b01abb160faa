"""The inbox's own tables: the per-recipient event log behind live streams, and the tenant's
recipient-token secrets and settings (migration 0015_inbox explains each)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class InboxCursor(Base):
    """The last event number given to a recipient's inbox; its row lock orders the events."""

    __tablename__ = "inbox_cursors"

    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipients.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")


class InboxEvent(Base):
    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_events_created", "created_at"),)

    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipients.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()


class InboxSigningSecret(Base):
    __tablename__ = "inbox_signing_secrets"
    __table_args__ = (Index("ix_inbox_signing_secrets_tenant", "tenant_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kid: Mapped[str] = mapped_column(String(40), unique=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TenantInboxSettings(Base):
    __tablename__ = "tenant_inbox_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    allowed_origins: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    hmac_enabled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    token_ttl_seconds: Mapped[int] = mapped_column(Integer, server_default="3600")
    updated_at: Mapped[datetime] = _now()
