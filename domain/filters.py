"""What a listing is narrowed to: plain values the API fills in and db/ turns into conditions.
A field left None does not narrow."""

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TemplateFilter:
    event_key: str | None = None
    channel: str | None = None
    owner_id: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class LogFilter:
    """Deliveries by status, channel, event key, recipient (external id) and creation time
    (`since` inclusive, `until` exclusive)."""

    status: str | None = None
    channel: str | None = None
    event_key: str | None = None
    recipient: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, uuid.UUID] | None = None  # the cursor: last row of the previous page


@dataclass(frozen=True)
class ResendFilter:
    """Failed or bounced deliveries to resend, by status, channel, event key and creation time
    (`since` inclusive, `until` exclusive), at most `limit`, oldest first."""

    limit: int
    status: str | None = None
    channel: str | None = None
    event_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class InboxFilter:
    """A recipient's in-app messages: by default the feed (not archived, not snoozed); `read`
    narrows to read (True) or unread (False) ones, `archived` lists the archived ones instead,
    `snoozed` only those snoozed now; `tags` keeps the messages that carry every one of them.
    Expired messages are never listed."""

    read: bool | None = None
    archived: bool = False
    snoozed: bool = False
    priority: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryFilter:
    """The dashboard's History: deliveries created in [since, until) by status, channel, event
    key and provider; a search resolved to the recipients it names (`recipient_ids`) or to
    deliveries and notifications by id (`ids`). None does not narrow; an empty tuple matches
    nothing."""

    since: datetime
    until: datetime
    status: str | None = None
    channel: str | None = None
    event_key: str | None = None
    provider: str | None = None
    recipient_ids: tuple[uuid.UUID, ...] | None = None
    ids: tuple[uuid.UUID, ...] | None = None  # deliveries or notifications, by their id

    @property
    def narrows(self) -> bool:
        """Whether anything but the time range narrows the list."""
        return any(
            value is not None
            for value in (
                self.status,
                self.channel,
                self.event_key,
                self.provider,
                self.recipient_ids,
                self.ids,
            )
        )
