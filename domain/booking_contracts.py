"""The dataclasses that cross the Temporal boundary for booking chains, agendas and notices.

One input and one result type per workflow, activity, signal and update; new fields get
defaults so running workflows keep working. Times are ISO 8601 strings with an offset.
"""

from dataclasses import dataclass, field
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
    start: str
    end: str
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
    type: str
    occurred_at: str
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
    start: str  # the start this reminder is about
    due: str
    status: str = ReminderStatus.PENDING
    sent_at: str | None = None
    notification_id: str | None = None


@dataclass
class BookingState:
    """The chain's whole state: the `state` query's answer, carried over continue-as-new."""

    booking_id: str
    status: str = BookingStatus.PENDING
    booking: BookingDetails | None = None
    config: ChainConfig | None = None
    reminders: list[ReminderState] = field(default_factory=list)  # for the current start
    reminders_sent: list[ReminderState] = field(default_factory=list)  # for any start
    cancelled_offsets: list[float] = field(default_factory=list)  # cancelled through the API
    next_reminder: ReminderState | None = None
    follow_up_due: str | None = None
    reschedules: int = 0
    last_event_at: str | None = None
    applied_event_ids: list[str] = field(default_factory=list)  # the latest ones, for dedupe
    # The latest events the chain ignored, as "<event id>: <why>", for whoever wonders why.
    ignored_events: list[str] = field(default_factory=list)
    closed: bool = False


@dataclass
class BookingInput:
    tenant_id: str
    booking_id: str
    carried: BookingState | None = None  # set by continue-as-new
    # Continue as new once the history is this long (tests lower it); Temporal's own
    # suggestion (history size) also triggers it.
    max_history_events: int = 5000


@dataclass
class ReminderChange:
    """The `cancel_reminder` and `reschedule_reminder` updates' input."""

    offset_minutes: float
    due: str | None = None  # reschedule only: the new due time


@dataclass
class BookingConfigInput:
    tenant_id: str
    organizer_id: str | None


@dataclass
class RecordBookingInput:
    tenant_id: str
    workflow_id: str
    state: BookingState


@dataclass
class NoticeRequest:
    """One notification a workflow sends: who to, which event, what context, under which key."""

    tenant_id: str
    recipient_external_id: str
    recipient: Person
    event_key: str
    idempotency_key: str
    context: dict[str, Any]
    channels: list[str] | None = None  # None: the recipient's preferences decide


@dataclass
class NoticeCreated:
    notification_id: str
    workflow_id: str


@dataclass
class DailyAgendaInput:
    tenant_id: str
    organizer_id: str
    timezone: str
    send_empty: bool = False
    agenda_date: str | None = None  # YYYY-MM-DD; None: the organizer's today when it runs


@dataclass
class LoadAgendaInput:
    tenant_id: str
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
    notification_id: str | None = None  # None: nothing was sent
