"""What is still to be sent: scheduled notifications and pending booking reminders, as one
list; cancelling and rescheduling either kind by its id."""

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.notifications import NotificationCreate, RecipientRef
from api.schemas.scheduling import ScheduledChange, ScheduledItem, ScheduledPage
from config.settings import Settings
from db.booking_models import Booking, BookingReminder
from db.bookings import get_reminder, pending_reminders
from db.models import Notification
from db.notifications import get_notification
from db.scheduled import scheduled_notifications
from domain.booking_contracts import ReminderChange, ReminderState
from domain.booking_notices import REMINDER as REMINDER_EVENT_KEY
from domain.operators import Operator
from domain.tenants import TenantIdentity
from domain.types import Channel, NotificationStatus, Priority
from services import audit
from services.errors import Conflict, NotFound, invalid_field
from services.notifications import (
    refuse_expired_inbox,
    stored_inbox_options,
    submit_notification,
)
from services.pages import decode_cursor, page
from temporal_clients.bookings import (
    BookingEnded,
    ReminderChangeRefused,
    cancel_reminder,
    reschedule_reminder,
)
from temporal_clients.notifications import WorkflowGone, cancel_notification

# The two kinds of scheduled item (ScheduledItem.kind).
NOTIFICATION: Final = "notification"
REMINDER: Final = "booking_reminder"


async def list_scheduled(
    session: AsyncSession, tenant: TenantIdentity, cursor: str | None, limit: int
) -> ScheduledPage:
    """Both kinds by due time: each source's first `limit + 1` after the cursor hold the
    merged list's first `limit + 1`."""
    after = decode_cursor(cursor, datetime, uuid.UUID)
    notifications = await scheduled_notifications(session, tenant.id, after, limit + 1)
    reminders = await pending_reminders(session, tenant.id, after, limit + 1)
    items = [
        ScheduledItem(
            id=s.notification.id,
            kind=NOTIFICATION,
            due_at=s.due_at,
            event_key=s.notification.event_key,
            recipient=s.recipient,
            workflow_id=s.notification.workflow_id,
        )
        for s in notifications
    ] + [
        ScheduledItem(
            id=r.id,
            kind=REMINDER,
            due_at=r.due_at,
            event_key=REMINDER_EVENT_KEY,
            recipient=b.invitee_email,
            workflow_id=b.workflow_id,
            booking_id=b.id,
            offset_minutes=r.offset_minutes,
        )
        for r, b in reminders
    ]
    ordered = sorted(items, key=lambda item: (item.due_at, item.id))
    shown, next_cursor = page(ordered, limit, lambda item: (item.due_at, item.id))
    return ScheduledPage(data=shown, next_cursor=next_cursor)


async def cancel_scheduled(
    session: AsyncSession,
    temporal: Client,
    tenant: TenantIdentity,
    id: uuid.UUID,
    by: Operator | None = None,
) -> ScheduledChange:
    """A change an operator makes (`by`, from the dashboard) goes in the audit log once made."""
    found = await get_notification(session, tenant.id, id)
    if found is not None:
        notification = found[0]
        await session.close()
        status = await _cancel_notification(temporal, notification)
        change = ScheduledChange(id=id, kind=NOTIFICATION, status=status)
    else:
        reminder, booking = await _reminder(session, tenant, id)
        state = await _reminder_changed(
            cancel_reminder(temporal, booking.workflow_id, ReminderChange(reminder.offset_minutes))
        )
        change = ScheduledChange(id=id, kind=REMINDER, status=state.status, due_at=state.due)
    await _audit(session, by, "scheduled.cancel", change)
    return change


async def reschedule_scheduled(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    id: uuid.UUID,
    send_at: datetime,
    by: Operator | None = None,
) -> ScheduledChange:
    """A reminder moves within its chain. A notification cannot change its timer in flight:
    it is cancelled and a copy accepted with the new send_at (keyed by the old id and the new
    time, so a retried request neither sends twice nor loses the copy). A change an operator
    makes (`by`) goes in the audit log once made."""
    if send_at <= datetime.now(UTC):
        raise invalid_field("send_at", "must be in the future")
    found = await get_notification(session, tenant.id, id)
    if found is not None:
        notification, external_id, _ = found
        copy = NotificationCreate(
            recipient=RecipientRef(external_id=external_id),
            event_key=notification.event_key,
            channels=(
                None
                if notification.channels is None
                else [Channel(c) for c in notification.channels]
            ),
            context=notification.context,
            priority=Priority(notification.priority),
            send_at=send_at,
            inbox=stored_inbox_options(notification),
        )
        refuse_expired_inbox(copy)  # before the original is cancelled: refused, nothing changes
        await session.close()
        await _cancel_notification(temporal, notification)
        key = f"reschedule-{id}-{int(send_at.timestamp())}"
        accepted = await submit_notification(session, temporal, settings, tenant, copy, key)
        changed = ScheduledChange(
            id=id,
            kind=NOTIFICATION,
            status=NotificationStatus.CANCELLED,
            due_at=send_at,
            replaced_by=accepted.id,
        )
    else:
        reminder, booking = await _reminder(session, tenant, id)
        change = ReminderChange(reminder.offset_minutes, due=send_at)
        state = await _reminder_changed(reschedule_reminder(temporal, booking.workflow_id, change))
        changed = ScheduledChange(id=id, kind=REMINDER, status=state.status, due_at=state.due)
    await _audit(session, by, "scheduled.reschedule", changed)
    return changed


async def _audit(
    session: AsyncSession, by: Operator | None, action: str, change: ScheduledChange
) -> None:
    """The change is Temporal's, already made: its audit entry is a transaction of its own."""
    if by is None:
        return
    details = change.model_dump(mode="json", exclude={"id", "kind"}, exclude_none=True)
    async with session.begin():
        await audit.record(session, by, action, f"{change.kind} {change.id}", details)


async def _cancel_notification(temporal: Client, notification: Notification) -> str:
    """Cancelled now, or already (a retried request); anything sent cannot be rescheduled."""
    try:
        result = await cancel_notification(temporal, notification.workflow_id)
    except WorkflowGone as exc:
        if notification.status == NotificationStatus.CANCELLED:
            return str(notification.status)
        raise Conflict(
            f"notification {notification.id} has already finished ({notification.status})",
            code="already_finished",
        ) from exc
    if not result.cancelled:
        raise Conflict(
            f"notification {notification.id} is {result.status}: nothing left to change",
            code="already_finished",
        )
    return result.status


async def _reminder(
    session: AsyncSession, tenant: TenantIdentity, id: uuid.UUID
) -> tuple[BookingReminder, Booking]:
    found = await get_reminder(session, tenant.id, id)
    await session.close()
    if found is None:
        raise NotFound(f"no scheduled notification or booking reminder {id}")
    return found


async def _reminder_changed(change: Awaitable[ReminderState]) -> ReminderState:
    try:
        return await change
    except (ReminderChangeRefused, BookingEnded) as exc:
        raise Conflict(str(exc), code="reminder_unchangeable") from exc
