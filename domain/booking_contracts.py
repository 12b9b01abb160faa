"""The dataclasses that cross the Temporal boundary for booking chains, agendas and notices.

One input and one result type per workflow, activity, signal and update; new fields get
defaults so running workflows keep working. Fields carry real types (UUID, datetime): Temporal's
converter writes them as strings and reads them back, so nothing parses by hand.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class BookingEventType(StrEnum):
    CREATED = "booking.created"
    RESCHEDULED = "booking.rescheduled"
    CANCELLED = "booking.cancelled"
    COMPLETED = "booking.completed"


class BookingStatus(StrEnum):
    PENDING = "pending"  # the chain exists but booking.created has not been applied
    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class EventOutcome(StrEnum):
    """What a booking's chain did with one event, as the events API reports it."""

    APPLIED = "applied"
    IGNORED = "ignored"  # with the reason, e.g. older than the last event applied
    QUEUED = "queued"  # received durably; the chain has not decided yet


@dataclass(frozen=True)
class EventVerdict:
    outcome: EventOutcome
    reason: str | None = None


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


@dataclass
class Person:
    name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    timezone: str = "UTC"
    id: str | None = None  # the organizer's id in the booking service (also its recipient id)


@dataclass
class BookingDetails:
    """What a booking event says about the booking: everything its notices need."""

    booking_id: str
    organizer: Person
    invitee: Person
    start: datetime
    end: datetime
    event_name: str | None = None
    event_description: str | None = None
    meeting_link: str | None = None
    meeting_id: str | None = None
    meeting_password: str | None = None
    booking_url: str | None = None
    reschedule_url: str | None = None
    cancel_url: str | None = None
    custom_answers: dict[str, Any] = field(default_factory=dict)
    cancellation_reason: str | None = None
    # The event type's own reminder offsets (minutes, fractions allowed); None: the organizer's.
    reminder_minutes_before: list[float] | None = None


@dataclass
class BookingEvent:
    """The `event` signal: one booking event as the booking service sent it."""

    event_id: str
    type: BookingEventType
    occurred_at: datetime
    booking: BookingDetails


@dataclass
class ChainConfig:
    """The organizer's and tenant's settings a booking chain follows."""

    reminder_offsets_minutes: list[float] = field(default_factory=lambda: [1440.0, 60.0])
    follow_up_enabled: bool = False
    follow_up_delay_minutes: float = 60.0


@dataclass
class ReminderState:
    offset_minutes: float
    start: datetime  # the start this reminder is about
    due: datetime
    status: ReminderStatus = ReminderStatus.PENDING
    sent_at: datetime | None = None
    notification_id: uuid.UUID | None = None


@dataclass
class BookingState:
    """The chain's whole state: the `state` query's answer, carried over continue-as-new."""

    booking_id: str
    status: BookingStatus = BookingStatus.PENDING
    booking: BookingDetails | None = None
    config: ChainConfig | None = None
    reminders: list[ReminderState] = field(default_factory=list)  # for the current start
    reminders_sent: list[ReminderState] = field(default_factory=list)  # for any start
    cancelled_offsets: list[float] = field(default_factory=list)  # cancelled through the API
    next_reminder: ReminderState | None = None
    follow_up_due: datetime | None = None
    reschedules: int = 0
    last_event_at: datetime | None = None
    applied_event_ids: list[str] = field(default_factory=list)  # the latest ones, for dedupe
    # The latest events the chain ignored, as "<event id>: <why>", for whoever wonders why.
    ignored_events: list[str] = field(default_factory=list)
    closed: bool = False


@dataclass
class BookingInput:
    tenant_id: uuid.UUID
    booking_id: str
    carried: BookingState | None = None  # set by continue-as-new
    # Continue as new once the history is this long (tests lower it); Temporal's own
    # suggestion (history size) also triggers it.
    max_history_events: int = 5000


@dataclass
class ReminderChange:
    """The `cancel_reminder` and `reschedule_reminder` updates' input."""

    offset_minutes: float
    due: datetime | None = None  # reschedule only: the new due time


@dataclass
class BookingConfigInput:
    tenant_id: uuid.UUID
    organizer_id: str | None


@dataclass
class RecordBookingInput:
    tenant_id: uuid.UUID
    workflow_id: str
    state: BookingState


@dataclass
class NoticeRequest:
    """One notification a workflow sends: who to, which event, what context, under which key."""

    tenant_id: uuid.UUID
    recipient_external_id: str
    recipient: Person
    event_key: str
    idempotency_key: str
    context: dict[str, Any]
    channels: list[str] | None = None  # None: the recipient's preferences decide


@dataclass
class NoticeCreated:
    notification_id: uuid.UUID
    workflow_id: str


@dataclass
class DailyAgendaInput:
    tenant_id: uuid.UUID
    organizer_id: str
    timezone: str
    send_empty: bool = False
    # YYYY-MM-DD (Temporal's converter has no date type); None: the organizer's today when it runs.
    agenda_date: str | None = None


@dataclass
class LoadAgendaInput:
    tenant_id: uuid.UUID
    organizer_id: str
    timezone: str
    agenda_date: str


@dataclass
class AgendaDay:
    organizer: Person | None  # None: the organizer is not a known recipient
    agenda_date_text: str  # the date as the organizer reads it
    bookings: list[dict[str, Any]]


@dataclass
class DailyAgendaResult:
    agenda_date: str
    bookings: int
    notification_id: uuid.UUID | None = None  # None: nothing was sent
