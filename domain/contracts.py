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


@dataclass
class ChannelState:
    delivery_id: str
    channel: str
    status: str
    reason: str | None = None
    error: str | None = None


@dataclass
class NotificationResult:
    status: str
    channels: list[ChannelState]


@dataclass
class PrepareInput:
    notification_id: str
    tenant_id: str


@dataclass
class PrepareResult:
    channels: list[ChannelState]


@dataclass
class DeliverInput:
    delivery_id: str
    tenant_id: str


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
    notification_status: str
    channels: list[ChannelState]  # only channels whose final status the workflow decided


@dataclass
class CancelResult:
    cancelled: bool
    status: str
    channels: list[ChannelState]
