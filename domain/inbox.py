"""An end user's inbox: what a message looks like to its recipient, and what the counts mean.

These shapes are the inbox's public contract: `GET /v1/inbox` returns messages in this form, and
the live stream (`GET /v1/inbox/stream`) carries the same form in its events, so a client renders
a message from either the same way.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class InboxRecipient:
    """Who is asking, on an inbox route: one recipient of one tenant, from a recipient token."""

    tenant_id: uuid.UUID
    recipient_id: uuid.UUID
    external_id: str
    # When the credentials stop being accepted (a token's `exp`; None for the HMAC scheme, which
    # never expires): the stream ends then, and the client reconnects with a new token.
    expires_at: datetime | None = None


class InboxEventKind(StrEnum):
    """The stream's `event:` names. Every event's data carries the recipient's fresh `counts`."""

    CREATED = "message.created"  # data.message: a new message
    UPDATED = "messages.updated"  # data.ids, data.change (an InboxChange), data.at
    DELETED = "messages.deleted"  # data.ids
    RETURNED = "message.returned"  # data.message: a snoozed message is back in the feed


class InboxChange(StrEnum):
    READ = "read"
    UNREAD = "unread"
    SEEN = "seen"
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"
    SNOOZED = "snoozed"
    UNSNOOZED = "unsnoozed"


@dataclass(frozen=True)
class InboxCounts:
    """Over the messages in the feed (not archived, not expired, not snoozed); uncapped."""

    total: int
    unread: int
    unseen: int

    def as_json(self) -> dict[str, int]:
        return {"total": self.total, "unread": self.unread, "unseen": self.unseen}


@dataclass(frozen=True)
class InboxMessage:
    id: uuid.UUID
    notification_id: uuid.UUID
    title: str
    body: str
    action_url: str | None
    priority: str
    category: str | None
    created_at: datetime
    tags: list[str] = field(default_factory=list)
    read_at: datetime | None = None
    seen_at: datetime | None = None
    archived_at: datetime | None = None
    snoozed_until: datetime | None = None
    expires_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        def stamp(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": str(self.id),
            "notification_id": str(self.notification_id),
            "title": self.title,
            "body": self.body,
            "action_url": self.action_url,
            "priority": self.priority,
            "category": self.category,
            "tags": list(self.tags),
            "created_at": stamp(self.created_at),
            "read_at": stamp(self.read_at),
            "seen_at": stamp(self.seen_at),
            "archived_at": stamp(self.archived_at),
            "snoozed_until": stamp(self.snoozed_until),
            "expires_at": stamp(self.expires_at),
        }
