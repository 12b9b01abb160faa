"""Planning a notification's channels: the policy's decision turned into delivery rows.

Pure: the activities in activities/planning.py read what this needs, call it, and write what
it returns."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from domain import policy
from domain.preferences import DigestFrequency
from domain.types import Channel, DeliveryStatus, NotificationStatus

STATUS_OF_ACTION = {
    policy.Action.SEND_NOW: DeliveryStatus.PENDING,
    policy.Action.DEFER: DeliveryStatus.DEFERRED,
    policy.Action.DIGEST: DeliveryStatus.DIGESTED,
    policy.Action.SUPPRESSED: DeliveryStatus.SUPPRESSED,
}


@dataclass(frozen=True)
class PlannedChannel:
    """One channel's delivery as decided now."""

    delivery_id: uuid.UUID
    channel: Channel
    status: DeliveryStatus
    status_reason: str | None = None
    deferred_until: datetime | None = None  # when a deferred channel wakes, or its digest goes out
    digest_frequency: DigestFrequency | None = None


def reachable_channels(
    email: str | None,
    phone: str | None,
    *,
    push_devices: int = 0,
    chat_address: str | None = None,
    webhook_channel: bool = False,
) -> set[Channel]:
    """The channels a recipient has an address for (in-app needs none): push needs an active
    device, chat an address on a platform, the webhook channel the tenant's URL."""
    present = {Channel.IN_APP}
    for channel, reachable in (
        (Channel.EMAIL, email),
        (Channel.SMS, phone),
        (Channel.PUSH, push_devices > 0),
        (Channel.CHAT, chat_address),
        (Channel.WEBHOOK, webhook_channel),
    ):
        if reachable:
            present.add(channel)
    return present


def planned_channels(
    decision: policy.Decision,
    delivery_ids: Mapping[Channel, uuid.UUID],
    invalid_addresses: Mapping[str, str],
) -> list[PlannedChannel]:
    """Each decided channel as a delivery. An address a provider reported as undeliverable
    (a hard bounce, a dead number) is not tried again: that channel is suppressed."""
    planned = []
    for choice in decision.channels:
        channel = PlannedChannel(
            delivery_ids[choice.channel],
            choice.channel,
            STATUS_OF_ACTION[choice.action],
            f"{choice.code}: {choice.reason}" if choice.code else None,
            choice.until,
            choice.digest_frequency,
        )
        reason = invalid_addresses.get(channel.channel)
        if reason and channel.status != DeliveryStatus.SUPPRESSED:
            channel = replace(
                channel,
                status=DeliveryStatus.SUPPRESSED,
                status_reason=f"invalid_address: {reason}",
                deferred_until=None,
                digest_frequency=None,
            )
        planned.append(channel)
    return planned


def notification_status(planned: list[PlannedChannel], scheduled: bool) -> NotificationStatus:
    """The notification's status once its channels are planned; `scheduled` when the plan is
    for a later instant (a future send_at)."""
    statuses = {p.status for p in planned}
    if DeliveryStatus.PENDING in statuses:
        return NotificationStatus.SCHEDULED if scheduled else NotificationStatus.SENDING
    if DeliveryStatus.DEFERRED in statuses:
        return NotificationStatus.DEFERRED
    if DeliveryStatus.DIGESTED in statuses:
        return NotificationStatus.DIGESTED
    return NotificationStatus.SUPPRESSED
