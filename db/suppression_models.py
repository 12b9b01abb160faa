"""The address suppression list: what an address unsubscribed from, whichever recipient it was."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class AddressSuppression(Base):
    """An address (normalised: trimmed, lower case) that unsubscribed from a category on a
    channel. Every recipient of the tenant with that address is held to it, as providers keep
    their suppression lists by address."""

    __tablename__ = "address_suppressions"
    # Migration 0023: what came through a recipient (their export; the SET NULL when the
    # recipient row goes).
    __table_args__ = (Index("ix_address_suppressions_recipient", "recipient_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    category: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The recipient whose link (or provider report) it came through, for the record.
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("recipients.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
