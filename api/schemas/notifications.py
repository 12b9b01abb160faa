"""Recipients, notifications and the delivery log: request and response bodies, one per purpose."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from api.schemas.chat_addresses import ChatAddresses
from api.schemas.common import (
    DateTime,
    EventKey,
    ExternalId,
    InputModel,
    Locale,
    Phone,
    TimeZone,
)
from api.schemas.inbox import InboxOptions
from api.schemas.pages import Page
from domain.chat import shown_address
from domain.types import Channel, Priority


class RecipientFields(InputModel):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    timezone: TimeZone = "UTC"
    locale: Locale = "en"
    chat_addresses: ChatAddresses = Field(default_factory=ChatAddresses)


class RecipientPublic(BaseModel):
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    timezone: str
    locale: str
    chat_addresses: dict[str, str] = Field(
        description="By platform (slack, teams, discord): where chat notifications go."
    )
    created_at: datetime
    updated_at: datetime


class RecipientRef(InputModel):
    """A known recipient by `external_id`, or contact details inline (stored for next time)."""

    external_id: ExternalId | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    timezone: TimeZone | None = None
    locale: Locale | None = None
    chat_addresses: ChatAddresses | None = Field(
        default=None, description="Given, they replace the recipient's chat addresses."
    )

    @model_validator(mode="after")
    def _identifiable(self) -> "RecipientRef":
        if not (self.external_id or self.email or self.phone):
            raise ValueError("give an external_id, or an email or phone to send to")
        return self

    @property
    def has_contact(self) -> bool:
        return any(value is not None for name, value in self if name != "external_id")


class MessageFields(InputModel):
    """What a notification and a broadcast (api/schemas/broadcasts.py) both say: the event and
    its context, the channels, the priority, when to send, the in-app message's options."""

    event_key: EventKey = Field(examples=["booking.confirmation", "payment.completed"])
    channels: Annotated[list[Channel], Field(min_length=1)] | None = Field(
        default=None, description="Omit to use the recipient's preferred method."
    )
    context: dict[str, Any] = Field(default_factory=dict, description="Template variables.")
    priority: Priority = Priority.NORMAL
    send_at: DateTime | None = Field(default=None, description="Aware ISO 8601; omit to send now.")
    inbox: InboxOptions | None = Field(
        default=None, description="Tags and an expiry for the in-app message (channel in_app)."
    )

    @field_validator("send_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must include a timezone offset, e.g. 2026-05-01T09:00:00Z")
        return value


class NotificationCreate(MessageFields):
    recipient: RecipientRef


class NotificationAccepted(BaseModel):
    id: uuid.UUID
    status: str
    workflow_id: str
    idempotency_key: str
    replayed: bool = Field(description="True when this Idempotency-Key was seen before.")


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: str
    provider: str | None
    address: str | None
    status: str
    status_reason: str | None
    provider_message_id: str | None
    error: str | None
    retry_count: int
    subject: str | None
    deferred_until: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    failed_at: datetime | None
    template_version_id: uuid.UUID | None = Field(
        None, description="The template version rendered."
    )

    @field_validator("address")
    @classmethod
    def _without_secrets(cls, address: str | None) -> str | None:
        """A chat webhook URL's path is a secret: shown as its host."""
        return shown_address(address)

    failover_log: list[dict[str, Any]] | None = Field(
        None, description="Providers left, in order, and why."
    )
    resent_from_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime


class NotificationPublic(BaseModel):
    id: uuid.UUID
    recipient: str
    event_key: str
    priority: str
    channels: list[str] | None
    context: dict[str, Any]
    idempotency_key: str
    send_at: datetime | None
    workflow_id: str
    status: str
    status_reason: str | None = Field(
        None,
        description="Why it ended as it did when no channel says so: a planning or recording "
        "step that could never succeed, or still failed after its retries.",
    )
    inbox: InboxOptions | None = Field(
        None, description="The in-app message's tags and expiry, as submitted."
    )
    created_at: datetime
    updated_at: datetime
    deliveries: list[DeliveryPublic]


class CancelOutcome(BaseModel):
    id: uuid.UUID
    cancelled: bool
    status: str
    message: str


class LogEntry(DeliveryPublic):
    notification_id: uuid.UUID
    event_key: str
    recipient: str


class LogPage(Page[LogEntry]):
    pass
