"""What a booking chain sends: recipients, template context and idempotency keys.

Every key is derived from the booking and what the notice is about, never from when it
was sent, so a retried step or a replayed event finds the notification it already made.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.booking_contracts import BookingDetails, NoticeRequest, Person
from domain.contacts import address_external_id

INVITEE = "invitee"
ORGANIZER = "organizer"

CONFIRMATION = "booking.confirmation"
REMINDER = "booking.reminder"
RESCHEDULED = "booking.rescheduled"
CANCELLATION = "booking.cancellation"
FOLLOW_UP = "booking.follow_up"


def contact_external_id(person: Person) -> str:
    """The recipient a person is stored as: the organizer by their id; an invitee, who has
    none, by address (`email:...`, else `phone:...`, as the notifications API names them)."""
    if person.id:
        return person.id
    return address_external_id(person.email, person.phone)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def utc_iso(moment: datetime) -> str:
    """A time as template contexts (JSON) carry it: ISO 8601 in UTC."""
    return utc(moment).isoformat()


def compact_time(moment: datetime) -> str:
    """`20261124T090000Z`: a start time as it appears in an idempotency key."""
    return utc(moment).strftime("%Y%m%dT%H%M%SZ")


def offset_text(offset_minutes: float) -> str:
    return f"{offset_minutes:g}"


def booking_context(booking: BookingDetails) -> dict[str, Any]:
    """The template variables every booking notice carries (absent values left out, so
    templates fall back to their defaults instead of printing 'None')."""
    organizer, invitee = booking.organizer, booking.invitee
    values = {
        "booking_id": booking.booking_id,
        "invitee_name": invitee.name,
        "invitee_email": invitee.email,
        "invitee_phone": invitee.phone,
        "invitee_timezone": invitee.timezone,
        "organizer_name": organizer.name,
        "organizer_email": organizer.email,
        "organizer_timezone": organizer.timezone,
        "event_name": booking.event_name,
        "event_description": booking.event_description,
        "start": utc_iso(booking.start),
        "end": utc_iso(booking.end),
        "meeting_link": booking.meeting_link,
        "meeting_id": booking.meeting_id,
        "meeting_password": booking.meeting_password,
        "booking_url": booking.booking_url,
        "reschedule_url": booking.reschedule_url,
        "cancel_url": booking.cancel_url,
        "custom_answers": booking.custom_answers or None,
        # The organizer's own templates win over the tenant's.
        "owner_id": organizer.id,
    }
    return {key: value for key, value in values.items() if value is not None}


def notice(
    tenant_id: uuid.UUID,
    booking: BookingDetails,
    event_key: str,
    audience: str,
    key_parts: tuple[str, ...],
    **extra: Any,
) -> NoticeRequest:
    person = booking.organizer if audience == ORGANIZER else booking.invitee
    context = booking_context(booking) | {"audience": audience}
    context |= {key: value for key, value in extra.items() if value is not None}
    return NoticeRequest(
        tenant_id=tenant_id,
        recipient_external_id=contact_external_id(person),
        recipient=Person(person.name, person.email, person.phone, person.timezone),
        event_key=event_key,
        idempotency_key="-".join(("booking", booking.booking_id, *key_parts)),
        context=context,
    )


def to_both(
    tenant_id: uuid.UUID,
    booking: BookingDetails,
    event_key: str,
    key_parts: tuple[str, ...],
    **extra: Any,
) -> list[NoticeRequest]:
    """The invitee's notice and the organizer's (whose preferences may mute it)."""
    return [
        notice(tenant_id, booking, event_key, audience, (*key_parts, audience), **extra)
        for audience in (INVITEE, ORGANIZER)
    ]


def reminder_notice(
    tenant_id: uuid.UUID, booking: BookingDetails, offset_minutes: float
) -> NoticeRequest:
    return notice(
        tenant_id,
        booking,
        REMINDER,
        INVITEE,
        ("reminder", offset_text(offset_minutes), compact_time(booking.start)),
        reminder_minutes_before=offset_minutes,
    )


def follow_up_notice(tenant_id: uuid.UUID, booking: BookingDetails) -> NoticeRequest:
    return notice(tenant_id, booking, FOLLOW_UP, INVITEE, ("follow-up",))
