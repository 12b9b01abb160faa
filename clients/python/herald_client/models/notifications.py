"""Notifications: what `send` takes and what Herald answers (api/schemas/notifications.py)."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from herald_client.models.base import Input, Output

Channel = Literal["email", "sms", "push", "in_app", "chat", "webhook"]
Priority = Literal["low", "normal", "high", "urgent"]


class ChatAddresses(Input):
    slack: str | None = None
    teams: str | None = None
    discord: str | None = None


class InboxOptions(Input):
    """Tags and an expiry for the in-app message."""

    tags: list[str] = Field(default_factory=list)
    expires_at: AwareDatetime | None = None


class RecipientRef(Input):
    """A known recipient by `external_id`, or contact details inline (stored for next time)."""

    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    locale: str | None = None
    chat_addresses: ChatAddresses | None = None


class MessageFields(Input):
    """What a notification and a broadcast both say."""

    event_key: str
    channels: list[Channel] | None = None  # none: the recipient's preferred method
    context: dict[str, Any] = Field(default_factory=dict)
    priority: Priority = "normal"
    send_at: AwareDatetime | None = None  # none: now
    inbox: InboxOptions | None = None


class NotificationCreate(MessageFields):
    recipient: RecipientRef


class NotificationAccepted(Output):
    id: uuid.UUID
    status: str
    workflow_id: str
    idempotency_key: str
    replayed: bool


class DeliveryPublic(Output):
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
    template_version_id: uuid.UUID | None = None
    failover_log: list[dict[str, Any]] | None = None
    resent_from_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime


class NotificationPublic(Output):
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
    status_reason: str | None = None
    inbox: dict[str, Any] | None = None  # tags and expires_at, as submitted
    created_at: datetime
    updated_at: datetime
    deliveries: list[DeliveryPublic]


class CancelOutcome(Output):
    id: uuid.UUID
    cancelled: bool
    status: str
    message: str


class LogEntry(DeliveryPublic):
    notification_id: uuid.UUID
    event_key: str
    recipient: str


class LogPage(Output):
    data: list[LogEntry]
    next_cursor: str | None  # pass it as `cursor` for the next page; None on the last
