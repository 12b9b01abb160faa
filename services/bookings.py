"""A booking's chain, read: its state as the BookingWorkflow keeps it (domain/booking_chain.py
decides it), including the events it ignored, which a sender would otherwise not see."""

from temporalio.client import Client

from api.schemas.bookings import BookingPublic, ReminderPublic
from domain.booking_contracts import ReminderState
from domain.tenants import TenantIdentity
from services.errors import NotFound
from temporal_clients.bookings import BookingUnknown, booking_state


async def read_booking(temporal: Client, tenant: TenantIdentity, booking_id: str) -> BookingPublic:
    try:
        state = await booking_state(temporal, tenant.id, booking_id)
    except BookingUnknown:
        raise NotFound(f"booking {booking_id!r} not found: no booking.created for it") from None
    booking = state.booking
    return BookingPublic(
        booking_id=state.booking_id,
        status=state.status,
        start=booking.start if booking else None,
        end=booking.end if booking else None,
        reminders=[_reminder(r) for r in state.reminders],
        next_reminder=_reminder(state.next_reminder) if state.next_reminder else None,
        follow_up_due=state.follow_up_due,
        reschedules=state.reschedules,
        last_event_at=state.last_event_at,
        ignored_events=state.ignored_events,
        closed=state.closed,
    )


def _reminder(reminder: ReminderState) -> ReminderPublic:
    return ReminderPublic(
        offset_minutes=reminder.offset_minutes,
        due=reminder.due,
        status=reminder.status,
        sent_at=reminder.sent_at,
    )
