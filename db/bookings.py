"""Bookings, their reminders and the tenant's booking settings, always within one tenant."""

import dataclasses
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.booking_models import Booking, BookingReminder, TenantBookingSettings
from db.models import Recipient, Tenant
from db.recipients import get_recipient
from domain.booking_contracts import BookingState, BookingStatus, ChainConfig, ReminderStatus
from domain.booking_notices import offset_text
from domain.preferences import Preferences, effective_preferences

REMINDER_NAMESPACE = uuid.UUID("0b6f5f1e-0c4e-4f43-9a57-2f1d4c9b7a30")
LIVE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.RESCHEDULED, BookingStatus.COMPLETED)


def reminder_id(tenant_id: uuid.UUID, booking_id: str, offset_minutes: float) -> uuid.UUID:
    """Stable across replans, so an id from GET /v1/scheduled stays valid."""
    return uuid.uuid5(REMINDER_NAMESPACE, f"{tenant_id}:{booking_id}:{offset_text(offset_minutes)}")


def _as_json(values: dict[str, Any]) -> dict[str, Any]:
    """The booking as its JSONB column keeps it: times as ISO 8601 text."""
    return json.loads(json.dumps(values, default=lambda value: value.isoformat()))


async def record_booking(
    session: AsyncSession, tenant_id: uuid.UUID, workflow_id: str, state: BookingState
) -> None:
    """Write the booking row and replace its reminders with the chain's current ones."""
    booking = state.booking
    if booking is None:
        raise ValueError(f"booking {state.booking_id} has no details to record yet")
    values = dict(
        organizer_id=booking.organizer.id,
        invitee_name=booking.invitee.name,
        invitee_email=booking.invitee.email,
        start_at=booking.start,
        end_at=booking.end,
        status=state.status,
        payload=_as_json(dataclasses.asdict(booking)),
        workflow_id=workflow_id,
    )
    await session.execute(
        insert(Booking)
        .values(tenant_id=tenant_id, id=booking.booking_id, **values)
        .on_conflict_do_update(
            index_elements=[Booking.tenant_id, Booking.id],
            set_={**values, "updated_at": func.now()},
        )
    )
    await session.execute(
        delete(BookingReminder).where(
            BookingReminder.tenant_id == tenant_id, BookingReminder.booking_id == booking.booking_id
        )
    )
    rows = [
        dict(
            id=reminder_id(tenant_id, booking.booking_id, r.offset_minutes),
            tenant_id=tenant_id,
            booking_id=booking.booking_id,
            offset_minutes=r.offset_minutes,
            due_at=r.due,
            status=r.status,
            notification_id=r.notification_id,
        )
        for r in state.reminders
    ]
    if rows:
        await session.execute(insert(BookingReminder).values(rows))


async def organizer_bookings(
    session: AsyncSession, tenant_id: uuid.UUID, organizer_id: str, since: datetime, until: datetime
) -> list[Booking]:
    """Bookings starting in [since, until) that still take place, earliest first."""
    result = await session.scalars(
        select(Booking)
        .where(
            Booking.tenant_id == tenant_id,
            Booking.organizer_id == organizer_id,
            Booking.start_at >= since,
            Booking.start_at < until,
            Booking.status.in_(LIVE_STATUSES),
        )
        .order_by(Booking.start_at, Booking.id)
    )
    return list(result)


async def pending_reminders(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[BookingReminder, Booking]]:
    """Earliest first, from after `after` (due time, id), at most `limit`."""
    conditions = [
        BookingReminder.tenant_id == tenant_id,
        BookingReminder.status == ReminderStatus.PENDING,
    ]
    if after is not None:
        conditions.append(tuple_(BookingReminder.due_at, BookingReminder.id) > tuple_(*after))
    rows = await session.execute(
        select(BookingReminder, Booking)
        .join(
            Booking,
            (Booking.tenant_id == BookingReminder.tenant_id)
            & (Booking.id == BookingReminder.booking_id),
        )
        .where(*conditions)
        .order_by(BookingReminder.due_at, BookingReminder.id)
        .limit(limit)
    )
    return [(reminder, booking) for reminder, booking in rows.all()]


async def get_reminder(
    session: AsyncSession, tenant_id: uuid.UUID, id: uuid.UUID
) -> tuple[BookingReminder, Booking] | None:
    row = (
        await session.execute(
            select(BookingReminder, Booking)
            .join(
                Booking,
                (Booking.tenant_id == BookingReminder.tenant_id)
                & (Booking.id == BookingReminder.booking_id),
            )
            .where(BookingReminder.tenant_id == tenant_id, BookingReminder.id == id)
        )
    ).one_or_none()
    if row is None:
        return None
    reminder, booking = row
    return reminder, booking


async def recipient_preferences(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str | None
) -> tuple[Recipient | None, Preferences]:
    """A recipient (None if unknown) and their effective preferences (the tenant's defaults
    for an unknown one)."""
    defaults = await session.scalar(
        select(Tenant.preference_defaults).where(Tenant.id == tenant_id)
    )
    recipient = await get_recipient(session, tenant_id, external_id) if external_id else None
    return recipient, effective_preferences(
        defaults, recipient.preference_overrides if recipient else None
    )


async def get_booking_settings(session: AsyncSession, tenant_id: uuid.UUID) -> ChainConfig:
    """The tenant's follow-up settings (reminder offsets come from the organizer)."""
    row = await session.get(TenantBookingSettings, tenant_id)
    if row is None:
        return ChainConfig()
    return ChainConfig(
        follow_up_enabled=row.follow_up_enabled, follow_up_delay_minutes=row.follow_up_delay_minutes
    )


async def put_booking_settings(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    follow_up_enabled: bool,
    follow_up_delay_minutes: int,
) -> None:
    values = dict(
        follow_up_enabled=follow_up_enabled, follow_up_delay_minutes=follow_up_delay_minutes
    )
    await session.execute(
        insert(TenantBookingSettings)
        .values(tenant_id=tenant_id, **values)
        .on_conflict_do_update(
            index_elements=[TenantBookingSettings.tenant_id],
            set_={**values, "updated_at": func.now()},
        )
    )
