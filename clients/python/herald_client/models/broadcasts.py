"""Broadcasts and topics (api/schemas/broadcasts.py, api/schemas/topics.py)."""

import uuid
from datetime import datetime
from typing import Any, Literal

from herald_client.models.base import Input, Output
from herald_client.models.notifications import MessageFields


class Audience(Input):
    """Exactly one of `recipients`, `topic` or `all`."""

    recipients: list[str] | None = None
    topic: str | None = None
    all: Literal[True] | None = None


class BroadcastCreate(MessageFields):
    audience: Audience


class BroadcastAccepted(Output):
    id: uuid.UUID
    status: str
    workflow_id: str
    idempotency_key: str
    replayed: bool
    total: int | None


class AudiencePublic(Output):
    kind: str  # recipients, topic or tenant
    topic: str | None = None


class BroadcastProgressPublic(Output):
    """`planned` counts recipients written; `sent`, `suppressed`, `deferred` and `failed`
    count their deliveries."""

    id: uuid.UUID
    status: str
    total: int | None
    planned: int
    sent: int
    suppressed: int
    deferred: int
    failed: int
    rate_per_second: float | None = None
    eta_seconds: float | None = None


class BroadcastPublic(BroadcastProgressPublic):
    event_key: str
    audience: AudiencePublic
    priority: str
    channels: list[str] | None
    context: dict[str, Any]
    send_at: datetime | None
    workflow_id: str
    idempotency_key: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BroadcastPage(Output):
    data: list[BroadcastPublic]
    next_cursor: str | None


class SubscribersChange(Input):
    recipients: list[str]


class SubscribersAdded(Output):
    key: str
    created: bool
    added: int


class SubscribersRemoved(Output):
    key: str
    removed: int


class TopicPublic(Output):
    key: str
    created_at: datetime


class TopicPage(Output):
    data: list[TopicPublic]
    next_cursor: str | None


class SubscriberPublic(Output):
    external_id: str
    subscribed_at: datetime


class SubscriberPage(Output):
    data: list[SubscriberPublic]
    next_cursor: str | None


class SubscriptionPublic(Output):
    key: str
    subscribed_at: datetime


class SubscriptionPage(Output):
    data: list[SubscriptionPublic]
    next_cursor: str | None
