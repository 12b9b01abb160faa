"""Booking and payment event envelopes, their ids derived from your own ids.

    event = events.payment_completed(
        Payment(payment_id=payment.id, customer=Customer(id=user.id, email=user.email),
                amount="42.00", currency="EUR"),
        occurred_at=payment.paid_at,
    )
    herald.notify_event(event)      # or herald.send_event(event) to wait for Herald's answer

Herald accepts an event id once and compares the whole event on a repeat: the same id with
other content is a Conflict. So `occurred_at` is the time recorded with your payment or
booking (not "now"), and calling a helper twice for the same fact builds the same event.
"""

from datetime import UTC, datetime

from herald_client import calls
from herald_client.keys import MAX_EVENT_ID_LENGTH, KeyPart, key_from
from herald_client.models import Booking, EventIn, EventType, Payment


def _event(
    type_: EventType,
    data: Booking | Payment,
    occurred_at: datetime,
    id_parts: tuple[KeyPart, ...],
    event_id: str | None,
) -> EventIn:
    return calls.model(
        EventIn,
        id=event_id or key_from(type_, *id_parts, max_length=MAX_EVENT_ID_LENGTH),
        type=type_,
        occurred_at=occurred_at,
        data=data.model_dump(mode="json", exclude_none=True),
    )


def _instant(moment: datetime) -> str:
    """A time as one text whatever zone it was given in: `20261203T180342.661338Z`."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def booking_created(
    booking: Booking, *, occurred_at: datetime, event_id: str | None = None
) -> EventIn:
    """Id `booking.created:<booking_id>`: a booking is created once."""
    return _event("booking.created", booking, occurred_at, (booking.booking_id,), event_id)


def booking_rescheduled(
    booking: Booking, *, occurred_at: datetime, event_id: str | None = None
) -> EventIn:
    """Id `booking.rescheduled:<booking_id>:<new start, UTC>`: each move is its own event."""
    parts = (booking.booking_id, _instant(booking.start))
    return _event("booking.rescheduled", booking, occurred_at, parts, event_id)


def booking_cancelled(
    booking: Booking, *, occurred_at: datetime, event_id: str | None = None
) -> EventIn:
    """Id `booking.cancelled:<booking_id>`."""
    return _event("booking.cancelled", booking, occurred_at, (booking.booking_id,), event_id)


def booking_completed(
    booking: Booking, *, occurred_at: datetime, event_id: str | None = None
) -> EventIn:
    """Id `booking.completed:<booking_id>`."""
    return _event("booking.completed", booking, occurred_at, (booking.booking_id,), event_id)


def payment_completed(
    payment: Payment, *, occurred_at: datetime, event_id: str | None = None
) -> EventIn:
    """Id `payment.completed:<payment_id>`: a payment completes once."""
    return _event("payment.completed", payment, occurred_at, (payment.payment_id,), event_id)


def payment_failed(
    payment: Payment, *, occurred_at: datetime, event_id: str | None = None
) -> EventIn:
    """Id `payment.failed:<payment_id>:<occurred_at, UTC>`: each failed attempt is its own."""
    parts = (payment.payment_id, _instant(occurred_at))
    return _event("payment.failed", payment, occurred_at, parts, event_id)


def payment_refunded(
    payment: Payment, *, occurred_at: datetime, event_id: str | None = None
) -> EventIn:
    """Id `payment.refunded:<payment_id>:<occurred_at, UTC>`: each (partial) refund is its
    own."""
    parts = (payment.payment_id, _instant(occurred_at))
    return _event("payment.refunded", payment, occurred_at, parts, event_id)
