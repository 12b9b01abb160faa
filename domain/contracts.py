"""The dataclasses that cross the Temporal boundary between workflows and activities.

One input and one result type per call, so fields can be added (with defaults)
without breaking workflows that are already running.
"""

from dataclasses import dataclass, field


@dataclass
class DeliveryRetry:
    max_attempts: int = 5
    initial_seconds: float = 1.0
    max_interval_seconds: float = 300.0
    max_total_seconds: float = 3600.0
    attempt_timeout_seconds: float = 30.0


@dataclass
class NotificationInput:
    notification_id: str
    tenant_id: str
    event_key: str
    send_at: str | None = None  # ISO 8601, aware
    retry: DeliveryRetry = field(default_factory=DeliveryRetry)
    providers: dict[str, list[str]] = field(default_factory=dict)  # failover order per channel
    resend: "ChannelState | None" = None  # send only this (new) delivery: an operator's resend


@dataclass
class ChannelState:
    delivery_id: str
    channel: str
    status: str
    reason: str | None = None
    error: str | None = None
    until: str | None = None  # ISO: when a deferred channel wakes, or its digest is flushed
    digest_frequency: str | None = None


@dataclass
class CounterSlot:
    """A send counted against a cap or rate limit, given back if nothing was sent."""

    kind: str
    window_start: str  # ISO


@dataclass
class NotificationResult:
    status: str
    channels: list[ChannelState]


@dataclass
class PrepareInput:
    notification_id: str
    tenant_id: str
    now: str  # ISO: the workflow's clock (so decisions follow workflow time, also when skipped)
    as_of: str | None = None  # ISO; decide as of this later instant (a future send_at)
    reevaluate: bool = False  # decide the open channels again (after a wait)
    add_channel: str | None = None  # decide and add this one channel (a fallback)


@dataclass
class FallbackSpec:
    from_channel: str
    to_channel: str
    unless: str
    within_minutes: float


@dataclass
class PrepareResult:
    channels: list[ChannelState]
    slots: list[CounterSlot] = field(default_factory=list)
    fallback: FallbackSpec | None = None  # the tenant's fallback rule for this event key


@dataclass
class DeliverInput:
    delivery_id: str
    tenant_id: str
    provider: str | None = None  # by name; None: the channel's first
    earlier_attempts: int = 0  # made before this activity (the workflow's first, local, attempt)
    settles_as: str | None = (
        None  # the notification's status to record with a success, if it ends there
    )


@dataclass
class FailoverInput:
    delivery_id: str
    from_provider: str | None
    to_provider: str | None
    reason: str


@dataclass
class DeliverResult:
    delivery_id: str
    status: str
    provider: str | None = None
    provider_message_id: str | None = None


@dataclass
class RecordOutcomeInput:
    notification_id: str
    tenant_id: str
    notification_status: str | None  # None: recompute from every channel's latest delivery
    channels: list[ChannelState]  # only channels whose final status the workflow decided
    release_slots: list[CounterSlot] = field(default_factory=list)  # nothing was sent after all


@dataclass
class DigestItem:
    notification_id: str
    event_key: str
    summary: str
    created_at: str  # ISO
    flush_at: str  # ISO: the boundary the policy chose for it


@dataclass
class DigestInput:
    tenant_id: str
    recipient_id: str
    category: str
    frequency: str
    flush_at: str  # ISO: the boundary this digest goes out at
    items: list[DigestItem] = field(default_factory=list)
    # The previous batch's notification ids: a late duplicate signal never re-adds them.
    recently_sent: list[str] = field(default_factory=list)


@dataclass
class EnqueueDigestInput:
    notification_id: str
    tenant_id: str
    flush_at: str
    frequency: str


@dataclass
class SendDigestInput:
    tenant_id: str
    recipient_id: str
    category: str
    frequency: str
    items: list[DigestItem]
    batch_id: str  # makes the digest notification idempotent


@dataclass
class DeliveryEvent:
    """A provider reported a delivery's new status (webhook), told to its workflow."""

    delivery_id: str
    status: str  # a DeliveryStatus value: delivered, bounced, opened, clicked, failed...
    occurred_at: str | None = None  # ISO


@dataclass
class CancelResult:
    cancelled: bool
    status: str
    channels: list[ChannelState]
