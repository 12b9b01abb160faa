"""Vocabulary shared by the API, workflows and activities."""

import re
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"
    CHAT = "chat"  # Slack, Teams or Discord: the recipient's chat address says which
    WEBHOOK = "webhook"  # a POST to the tenant's webhook channel URL


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DEFERRED = "deferred"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    OPENED = "opened"
    CLICKED = "clicked"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"
    DIGESTED = "digested"  # handed to the recipient's digest for its category


# A delivery in one of these states will not change again by Herald's own doing
# (provider webhooks may still move sent -> delivered -> opened -> clicked).
FINAL_DELIVERY_STATUSES = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.BOUNCED,
        DeliveryStatus.OPENED,
        DeliveryStatus.CLICKED,
        DeliveryStatus.CANCELLED,
        DeliveryStatus.SUPPRESSED,
        DeliveryStatus.DIGESTED,
    }
)
OPEN_DELIVERY_STATUSES = frozenset({DeliveryStatus.PENDING, DeliveryStatus.DEFERRED})
# Settled without ever going to a provider.
NEVER_SENT_STATUSES = frozenset(
    {DeliveryStatus.SUPPRESSED, DeliveryStatus.CANCELLED, DeliveryStatus.DIGESTED}
)
FAILED_DELIVERY_STATUSES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.BOUNCED})


class NotificationStatus(StrEnum):
    ACCEPTED = "accepted"  # stored, workflow starting
    SCHEDULED = "scheduled"  # waiting for send_at
    DEFERRED = "deferred"  # waiting for quiet hours, a weekend or a rate limit to pass
    SENDING = "sending"
    SENT = "sent"  # every channel that was attempted was sent
    PARTIALLY_FAILED = "partially_failed"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # nothing to send: every channel suppressed
    DIGESTED = "digested"  # nothing sent on its own: it went into a digest
    CANCELLED = "cancelled"


# A notification in one of these has not finished: it waits (send_at, quiet hours) or is sent.
UNFINISHED_NOTIFICATION_STATUSES = frozenset(
    {
        NotificationStatus.ACCEPTED,
        NotificationStatus.SCHEDULED,
        NotificationStatus.DEFERRED,
        NotificationStatus.SENDING,
    }
)


EVENT_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def event_category(event_key: str) -> str:
    """`booking.reminder` belongs to the `booking` category; `daily_agenda` to itself."""
    return event_key.split(".", 1)[0]


DIGEST_PREFIX = "digest."


def subscription_category(event_key: str) -> str:
    """The category a recipient unsubscribes from: a digest's is the one it collects."""
    if event_key.startswith(DIGEST_PREFIX):
        return event_key[len(DIGEST_PREFIX) :]
    return event_category(event_key)
