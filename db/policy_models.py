"""Tables of the delivery policy: a tenant's policy settings and atomic send counters."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class TenantPolicySettings(Base):
    """Which event keys are reminders, and which urgent events may bypass quiet hours."""

    __tablename__ = "tenant_policy_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    reminder_event_keys: Mapped[dict[str, Any]] = mapped_column(default=list)  # a JSON list
    urgent_bypass: Mapped[dict[str, Any]] = mapped_column(default=dict)  # event key -> bool
    fallbacks: Mapped[dict[str, Any]] = mapped_column(default=dict)  # event key -> fallback rule
    retry_window_minutes: Mapped[int | None] = mapped_column()  # None: DELIVERY_MAX_RETRY_SECONDS


class SendCounter(Base):
    """Sends counted per recipient and window; a conditional upsert takes a slot atomically."""

    __tablename__ = "send_counters"

    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipients.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # reminders_day | rate_window
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
