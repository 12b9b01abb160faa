"""Bodies of POST /v1/events: the envelope, and the payload each event type carries."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.schemas.common import AwareDateTime, InputModel, Phone, TimeZone
from domain.booking_contracts import EventOutcome

EventId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
# Short enough that every key derived from them fits the 255 characters of an idempotency key.
BookingId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\s/]+$")]
OrganizerId = Annotated[str, StringConstraints(min_length=1, max_length=150, pattern=r"^[^\s/]+$")]
Name = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(max_length=5000)]


def _check_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or len(value) > 2000:
        raise ValueError("must be an http(s) URL of at most 2000 characters")
    return value


Url = Annotated[str, AfterValidator(_check_url)]
Offset = Annotated[float, Field(gt=0, le=60 * 24 * 60)]


# How far ahead of Herald's clock an event's occurred_at may be: the senders' clock skew.
MAX_CLOCK_SKEW = timedelta(minutes=5)


class EventType(StrEnum):
    BOOKING_CREATED = "booking.created"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_COMPLETED = "booking.completed"
    PAYMENT_COMPLETED = "payment.completed"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_REFUNDED = "payment.refunded"

    @property
    def is_booking(self) -> bool:
        return self.value.startswith("booking.")


class EventIn(InputModel):
    """The envelope; `data` is checked against the payload of `type` (errors name
    `data.<field>`)."""

    id: EventId = Field(description="The sender's event id: the same id is accepted once.")
    type: EventType
    occurred_at: AwareDateTime = Field(
        description="When it happened; at most "
        f"{int(MAX_CLOCK_SKEW.total_seconds())} s ahead of Herald's clock."
    )
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _not_from_the_future(cls, value: datetime) -> datetime:
        # A booking's chain applies only events newer than the last one it applied, so an
        # event dated ahead would make it ignore every real event after it.
        ahead = value - datetime.now(UTC)
        if ahead > MAX_CLOCK_SKEW:
            raise ValueError(
                f"is {int(ahead.total_seconds())} s ahead of the server's clock; at most "
                f"{int(MAX_CLOCK_SKEW.total_seconds())} s of clock skew is accepted"
            )
        return value


class _Payload(BaseModel):
    # Senders add fields over time; unknown ones are ignored rather than refused.
    model_config = ConfigDict(extra="ignore")


class _Contact(_Payload):
    name: Name | None = None
    email: EmailStr | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _reachable(self):
        if not (self.email or self.phone):
            raise ValueError("give an email or a phone")
        return self


class Organizer(_Contact):
    id: OrganizerId
    timezone: TimeZone = "UTC"


class Invitee(_Contact):
    timezone: TimeZone = "UTC"


class BookingPayload(_Payload):
    booking_id: BookingId
    organizer: Organizer
    invitee: Invitee
    event_name: Name | None = None
    event_description: Text | None = None
    start: AwareDatetime
    end: AwareDatetime
    meeting_link: Url | None = None
    meeting_id: Name | None = None
    meeting_password: Name | None = None
    booking_url: Url | None = None
    reschedule_url: Url | None = None
    cancel_url: Url | None = None
    custom_answers: Annotated[dict[str, str | int | float | bool | None], Field(max_length=50)] = (
        Field(default_factory=dict)
    )
    cancellation_reason: Text | None = None
    reminder_minutes_before: Annotated[list[Offset], Field(min_length=1, max_length=10)] | None = (
        Field(
            default=None,
            description="The event type's reminder offsets; omit for the organizer's preferences.",
        )
    )

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("must be after start")
        return end


class Customer(_Contact):
    id: OrganizerId
    timezone: TimeZone | None = None


class PaymentPayload(_Payload):
    payment_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    customer: Customer
    amount: Annotated[str, StringConstraints(max_length=50)] | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    payment_method: Name | None = None
    payment_description: Text | None = None
    receipt_url: Url | None = None
    payment_url: Url | None = None
    failure_reason: Text | None = None
    refund_amount: Annotated[str, StringConstraints(max_length=50)] | None = None
    booking_id: BookingId | None = None


class EventAccepted(BaseModel):
    event_id: str
    type: str
    duplicate: bool = Field(
        description="True when this event id was accepted before; nothing was done again."
    )
    workflow_id: str | None = None
    notification_id: str | None = None
    received_at: datetime | None = None
    outcome: EventOutcome | None = Field(
        default=None,
        description=(
            "For a booking event: what the booking's chain did with it. `applied`; `ignored`, "
            "with `ignored_reason` (e.g. older than the last event applied); or `queued` when "
            "the chain had not decided within 1.5 s, or at once with `Prefer: respond-async` (it "
            "will; GET /v1/bookings/{booking_id} shows its ignored events)."
        ),
    )
    ignored_reason: str | None = None
