"""Tables of delivery tracking: provider events already applied, addresses that cannot receive."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, Delivery


class SeenProviderEvent(Base):
    """One row per provider event id applied: a redelivered webhook event is skipped."""

    __tablename__ = "seen_provider_events"

    provider: Mapped[str] = mapped_column(String(30), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class InvalidAddress(Base):
    """An address a provider reported as permanently undeliverable (hard bounce, dead number)."""

    __tablename__ = "invalid_addresses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


# Email addresses compare case-insensitively in practice; one row per address however spelt.
Index(
    "uq_invalid_addresses_tenant_channel_address",
    InvalidAddress.tenant_id,
    InvalidAddress.channel,
    func.lower(InvalidAddress.address),
    unique=True,
)

# GET /v1/stats reads only these columns of a tenant's time range: with them in the index
# the query is an index-only scan (see bench/stats_query.py for the figures at millions of rows).
STATS_INDEX = Index(
    "ix_deliveries_stats",
    Delivery.tenant_id,
    Delivery.created_at,
    postgresql_include=["status", "channel", "provider", "template_version_id", "notification_id"],
)
