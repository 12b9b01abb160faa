"""Provider webhook events: applied to deliveries in one transaction, then told to workflows."""

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from db.address_health import mark_address_invalid
from db.deliveries import now
from db.delivery_tracking import first_sighting, lock_delivery, record_change
from db.opt_outs import switch_off_category
from domain.contracts import DeliveryEvent
from domain.delivery_status import apply_report
from domain.provider_events import ProviderEvent
from domain.types import DeliveryStatus, subscription_category
from temporal_clients.notifications import tell_delivery_event

log = logging.getLogger("herald.webhooks")
_EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass
class TrackingSummary:
    received: int = 0
    applied: int = 0  # matched a delivery and was acted on (even if it changed nothing)
    duplicates: int = 0  # an event id applied before
    unknown: int = 0  # no delivery has that message id
    ignored: int = 0  # an event kind Herald does not act on


@dataclass(frozen=True)
class WorkflowNews:
    """A delivery's new status, for its notification's workflow once the change is committed."""

    workflow_id: str
    event: DeliveryEvent


async def record_provider_events(
    session: AsyncSession, temporal: Client, events: list[ProviderEvent]
) -> TrackingSummary:
    """All or nothing: if anything fails the provider gets a 5xx and redelivers the batch,
    whose event ids were rolled back with everything else."""
    async with session.begin():
        outcomes, news = await apply_provider_events(session, events)
    await tell_workflows(temporal, news)
    return TrackingSummary(received=len(events), **outcomes)


async def apply_provider_events(
    session: AsyncSession, events: list[ProviderEvent]
) -> tuple[Counter[str], list[WorkflowNews]]:
    """Apply the events to their deliveries in the caller's transaction: how many count toward
    each TrackingSummary field, and the news to tell workflows once it commits (tell_workflows).
    The provider webhooks and the in-app inbox (a message read or its link followed) both come
    this way."""
    outcomes: Counter[str] = Counter()
    news: list[WorkflowNews] = []
    # One order for every batch (delivery, then time) keeps concurrent batches from
    # locking the same deliveries in opposite orders, and applies each message's events
    # oldest first, so first-time timestamps are the earliest.
    for event in sorted(
        events, key=lambda e: (e.delivery_id or e.message_id or "", e.occurred_at or _EPOCH)
    ):
        outcomes[await _apply(session, event, news)] += 1
    return outcomes, news


async def tell_workflows(temporal: Client, news: list[WorkflowNews]) -> None:
    """Signal each workflow its delivery's news (best effort: most have finished long before)."""
    await asyncio.gather(*(tell_delivery_event(temporal, n.workflow_id, n.event) for n in news))


async def _apply(session: AsyncSession, event: ProviderEvent, news: list[WorkflowNews]) -> str:
    """Apply one event; returns the TrackingSummary field it counts toward."""
    if not event.known:
        return "ignored"
    if event.event_id and not await first_sighting(session, event.provider, event.event_id):
        return "duplicates"
    delivery = await lock_delivery(session, event)
    if delivery is None:
        log.info("%s %s event for unknown message %s", event.provider, event.kind, event.message_id)
        return "unknown"
    if event.status is not None:
        change = apply_report(delivery.status, event.status)
        if change.stamp is None:
            return "applied"  # contradicts what is known (a bounce after delivery): ignored whole
        occurred_at = event.occurred_at or now()
        await record_change(session, delivery.id, change, occurred_at, event.error, event.payload)
        if change.moved:
            news.append(
                WorkflowNews(
                    delivery.workflow_id,
                    DeliveryEvent(delivery.id, DeliveryStatus(change.status), occurred_at),
                )
            )
    if event.opt_out:
        await switch_off_category(
            session,
            delivery.tenant_id,
            delivery.recipient_id,
            # As the unsubscribe link does: a digest's opt-out is from what it collects.
            subscription_category(delivery.event_key),
            delivery.channel,
        )
    if event.invalid_address and delivery.address:
        await mark_address_invalid(
            session, delivery.tenant_id, delivery.channel, delivery.address, event.invalid_address
        )
    return "applied"
