"""Tables of issue 5: ingested events, bookings and their reminders, tenant booking settings,
failure-rate alerts. Migration 0003_bookings creates them."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, Notification, now_column


class ProcessedEvent(Base):
    """One row per accepted event: the same event id is accepted once per tenant."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_received", "received_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))  # the same id with another body is a 409
    received_at: Mapped[datetime] = now_column()


class Booking(Base):
    """A booking as its chain last recorded it (the workflow owns it; the agenda and the
    scheduled list read it)."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_organizer_start", "tenant_id", "organizer_id", "start_at"),
        # Migration 0023: a person's bookings as invitee (their export and erasure).
        Index("ix_bookings_invitee_email", "tenant_id", text("lower(invitee_email)")),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the booking service's id
    organizer_id: Mapped[str] = mapped_column(String(255))
    invitee_name: Mapped[str | None] = mapped_column(String(200))
    invitee_email: Mapped[str | None] = mapped_column(String(320))
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column()
    workflow_id: Mapped[str] = mapped_column(String(600))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class BookingReminder(Base):
    """The current reminders of a booking's chain, replaced whenever the chain replans."""

    __tablename__ = "booking_reminders"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "booking_id"], ["bookings.tenant_id", "bookings.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "booking_id", "offset_minutes"),
        Index("ix_booking_reminders_due", "tenant_id", "status", "due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # stable per booking and offset
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    booking_id: Mapped[str] = mapped_column(String(100))
    offset_minutes: Mapped[float] = mapped_column(Float)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))
    notification_id: Mapped[uuid.UUID | None] = mapped_column()


class TenantBookingSettings(Base):
    __tablename__ = "tenant_booking_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    follow_up_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    follow_up_delay_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    updated_at: Mapped[datetime] = now_column()


class FailureAlert(Base):
    """A failure rate over its threshold: per tenant or per provider, at most one an hour."""

    __tablename__ = "failure_alerts"
    __table_args__ = (
        UniqueConstraint("scope", "subject", "window_start"),
        Index("ix_failure_alerts_created", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(String(10))  # "tenant" or "provider"
    subject: Mapped[str] = mapped_column(String(255))  # the tenant id, or "email:smtp"
    window_start: Mapped[datetime] = mapped_column(
        DateTime(timezone=True)
    )  # the hour it belongs to
    total: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float] = mapped_column(Float)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()


# The retention purge walks notifications by age; without this it scans the table per batch.
Index("ix_notifications_created_at", Notification.created_at)
