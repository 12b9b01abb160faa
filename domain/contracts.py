"""The dataclasses that cross the Temporal boundary between workflows and activities.

One input and one result type per call, so fields can be added (with defaults) without
breaking workflows that are already running. Fields carry real types (UUID, datetime,
enums): Temporal's converter writes them as strings and reads them back as these types, so
nothing on either side parses by hand (and histories written with ISO strings still read).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.preferences import DigestFrequency
from domain.types import Channel, DeliveryStatus, NotificationStatus


@dataclass
class DeliveryRetry:
    max_attempts: int = 0  # 0: no limit but the time, max_total_seconds
    initial_seconds: float = 1.0
    max_interval_seconds: float = 300.0
    max_total_seconds: float = 3600.0
    attempt_timeout_seconds: float = 30.0


@dataclass
class ChannelState:
    delivery_id: uuid.UUID
    channel: Channel
    status: DeliveryStatus
    reason: str | None = None
    error: str | None = None
    until: datetime | None = None  # when a deferred channel wakes, or its digest is flushed
    digest_frequency: DigestFrequency | None = None


@dataclass
class NotificationInput:
    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    event_key: str
    send_at: datetime | None = None
    retry: DeliveryRetry = field(default_factory=DeliveryRetry)
    providers: dict[str, list[str]] = field(default_factory=dict)  # failover order per channel
    resend: ChannelState | None = None  # send only this (new) delivery: an operator's resend


@dataclass
class CounterSlot:
    """A send counted against a cap or rate limit, given back if nothing was sent."""

    kind: str
    window_start: datetime


@dataclass
class NotificationResult:
    status: NotificationStatus
    channels: list[ChannelState]


@dataclass
class PlanInput:
    """Plan every channel of a new notification (plan_notification)."""

    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    now: datetime  # the workflow's clock, so decisions follow workflow time (also when skipped)
    as_of: datetime | None = None  # decide as of this later instant: a future send_at


@dataclass
class ReplanInput:
    """Decide the channels still waiting again, after a wait (replan_waiting_channels)."""

    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    now: datetime


@dataclass
class FallbackPlanInput:
    """Decide and add one more channel: a fallback rule's (plan_fallback_channel)."""

    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    now: datetime
    channel: Channel


@dataclass
class RecordedStatusInput:
    """Read a delivery's status as recorded (recorded_delivery_status)."""

    delivery_id: uuid.UUID
    tenant_id: uuid.UUID


@dataclass
class RecordedStatus:
    status: DeliveryStatus | None  # None: no such delivery


@dataclass
class FallbackSpec:
    from_channel: Channel
    to_channel: Channel
    unless: str
    within_minutes: float


@dataclass
class Plan:
    channels: list[ChannelState]
    slots: list[CounterSlot] = field(default_factory=list)
    fallback: FallbackSpec | None = None  # the tenant's fallback rule for this event key
    # The tenant's retry window for this notification's sends; None: the one it was started with.
    retry_window_seconds: float | None = None
    # The first attempt at the one send the plan left to make now, made in the same step
    # (plan_and_send); None when the step made none.
    first_attempt: "FirstAttempt | None" = None


@dataclass
class PlanAndSendInput:
    """Plan a new notification (as plan_notification does) and, when the plan leaves one
    channel to send now, make that send's first attempt in the same step (plan_and_send)."""

    plan: PlanInput
    providers: dict[str, list[str]]  # the failover order per channel (NotificationInput's)


@dataclass
class DeliverInput:
    delivery_id: uuid.UUID
    tenant_id: uuid.UUID
    provider: str | None = None  # by name; None: the channel's first
    earlier_attempts: int = 0  # made before this activity (the workflow's first, local, attempt)
    # The notification's status to record with a success, when that success is its last step.
    settles_as: NotificationStatus | None = None
    # Another provider can take the send: an open circuit fails over at once instead of
    # waiting for the circuit's trial.
    can_fail_over: bool = False


@dataclass
class FailoverInput:
    delivery_id: uuid.UUID
    from_provider: str | None
    to_provider: str | None
    reason: str


@dataclass
class SentRecord:
    """What `mark_sent` writes for a send the provider accepted."""

    delivery_id: uuid.UUID
    provider: str
    provider_message_id: str | None
    provider_response: dict[str, Any]
    subject: str | None
    template_version_id: uuid.UUID | None
    retry_count: int
    settles_as: NotificationStatus | None = None


@dataclass
class DeliverResult:
    delivery_id: uuid.UUID
    status: DeliveryStatus
    provider: str | None = None
    provider_message_id: str | None = None
    # The provider took the message but the database could not record it (restarting): the
    # workflow records it (record_sent) rather than let a retry send it again.
    unrecorded: SentRecord | None = None


@dataclass
class SendFailureReport:
    """How a send attempt failed, as data: what the ApplicationError it raised said (its type,
    message, whether retrying can help, the wait the provider asked for). A first attempt made
    inside plan_and_send reports its failure this way; the workflow reads it as it reads an
    attempt's own failure (workflows/send_failures.py)."""

    type: str
    message: str
    non_retryable: bool = False
    retry_after_seconds: float | None = None


@dataclass
class FirstAttempt:
    """The first attempt at a channel's send, made by the step that planned it: its result,
    or how it failed (one of the two)."""

    delivery_id: uuid.UUID
    result: DeliverResult | None = None
    failure: SendFailureReport | None = None


@dataclass
class RecordOutcomeInput:
    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    notification_status: (
        NotificationStatus | None
    )  # None: recompute from every channel's latest delivery
    channels: list[ChannelState]  # only channels whose final status the workflow decided
    release_slots: list[CounterSlot] = field(default_factory=list)  # nothing was sent after all
    # Why the notification ended so, when no channel says it: a bookkeeping step that failed
    # for good (notifications.status_reason).
    reason: str | None = None


@dataclass
class DigestItem:
    notification_id: uuid.UUID
    event_key: str
    summary: str
    created_at: datetime
    flush_at: datetime  # the boundary the policy chose for it


@dataclass
class DigestInput:
    tenant_id: uuid.UUID
    recipient_id: uuid.UUID
    category: str
    frequency: DigestFrequency
    flush_at: datetime  # the boundary this digest goes out at
    items: list[DigestItem] = field(default_factory=list)
    # The previous batch's notification ids: a late duplicate signal never re-adds them.
    recently_sent: list[uuid.UUID] = field(default_factory=list)


@dataclass
class EnqueueDigestInput:
    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    flush_at: datetime
    frequency: DigestFrequency


@dataclass
class SendDigestInput:
    tenant_id: uuid.UUID
    recipient_id: uuid.UUID
    category: str
    frequency: DigestFrequency
    items: list[DigestItem]
    batch_id: str  # makes the digest notification idempotent


@dataclass
class DeliveryEvent:
    """A provider reported a delivery's new status (webhook), told to its workflow."""

    delivery_id: uuid.UUID
    status: DeliveryStatus  # delivered, bounced, opened, clicked, failed...
    occurred_at: datetime | None = None


@dataclass
class CancelResult:
    cancelled: bool
    status: NotificationStatus
    channels: list[ChannelState]
