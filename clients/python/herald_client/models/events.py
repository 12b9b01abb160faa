"""Booking and payment events (api/schemas/events.py): the envelope, the payloads, the answer.
herald_client.events builds the envelopes."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from herald_client.models.base import Input, Output

EventType = Literal[
    "booking.created",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.completed",
    "payment.completed",
    "payment.failed",
    "payment.refunded",
]


class EventIn(Input):
    id: str  # the same id is accepted once
    type: EventType
    occurred_at: AwareDatetime
    data: dict[str, Any]


class EventAccepted(Output):
    event_id: str
    type: str
    duplicate: bool  # True: this id was accepted before, nothing was done again
    workflow_id: str | None = None
    notification_id: str | None = None
    received_at: datetime | None = None
    outcome: str | None = None  # a booking event: applied, ignored or queued
    ignored_reason: str | None = None


class Organizer(Input):
    id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str = "UTC"


class Invitee(Input):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str = "UTC"


class Booking(Input):
    """A booking event's `data`, as the booking system knows the booking."""

    booking_id: str
    organizer: Organizer
    invitee: Invitee
    event_name: str | None = None
    event_description: str | None = None
    start: AwareDatetime
    end: AwareDatetime
    meeting_link: str | None = None
    meeting_id: str | None = None
    meeting_password: str | None = None
    booking_url: str | None = None
    reschedule_url: str | None = None
    cancel_url: str | None = None
    custom_answers: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    cancellation_reason: str | None = None
    reminder_minutes_before: list[float] | None = None  # none: the organizer's preferences


class Customer(Input):
    id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None


class Payment(Input):
    """A payment event's `data`."""

    payment_id: str
    customer: Customer
    amount: str | None = None  # a decimal as text ("42.00"): no float rounding
    currency: str | None = None  # ISO 4217, "EUR"
    payment_method: str | None = None
    payment_description: str | None = None
    receipt_url: str | None = None
    payment_url: str | None = None
    failure_reason: str | None = None
    refund_amount: str | None = None
    booking_id: str | None = None
