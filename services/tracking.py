"""Provider webhook events: applied to deliveries in one transaction, then told to workflows."""

import asyncio
import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from db.address_health import mark_address_invalid
from db.deliveries import now
from db.delivery_tracking import (
    PROVIDER_CHANNELS,
    first_sighting,
    lock_delivery,
    record_change,
    record_report_on_many,
)
from db.opt_outs import switch_off_category
from domain.consent import opted_out_of, provider_opt_out_source
from domain.contracts import DeliveryEvent
from domain.delivery_status import apply_report, report_on_each_status
from domain.provider_events import ProviderEvent
from domain.types import UNFINISHED_NOTIFICATION_STATUSES, DeliveryStatus, subscription_category
from services.consent import record_consent
from temporal_clients.notifications import tell_delivery_event

log = logging.getLogger("herald.webhooks")
# Signals in flight at once: enough to keep Temporal's frontend busy (on 2 shared cores, 2,000
# signals took about as long 20 at a time as 100 at a time: ~1,000 a second), without one
# recipient's "mark all read" opening thousands of calls.
SIGNALS_AT_ONCE = 20
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
    (The in-app inbox's reports come through apply_report_to_many.)"""
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


async def apply_report_to_many(
    session: AsyncSession, report: ProviderEvent, delivery_ids: list[uuid.UUID]
) -> list[WorkflowNews]:
    """One status report (its status, time and payload) on many deliveries of its provider's
    channel, in one statement, in the caller's transaction: what apply_provider_events does
    event by event, for reports that differ only in the delivery (the in-app inbox: a recipient
    marking 2,000 messages read). Returns the news to tell workflows once it commits: only
    those of notifications not finished (a notification's status is final only once its
    workflow has recorded its outcome, after any fallback's wait; the others have no workflow
    left to listen, and most messages are read long after that)."""
    if report.status is None or report.opt_out or report.invalid_address:
        raise ValueError("only a status report, without other effects, applies to many at once")
    occurred_at = report.occurred_at or now()
    recorded = await record_report_on_many(
        session,
        delivery_ids,
        PROVIDER_CHANNELS[report.provider],
        report_on_each_status(report.status),
        occurred_at,
        report.payload,
    )
    return [
        WorkflowNews(d.workflow_id, DeliveryEvent(d.id, DeliveryStatus(d.status), occurred_at))
        for d in recorded
        if d.moved
        and d.workflow_id is not None
        and d.notification_status in UNFINISHED_NOTIFICATION_STATUSES
    ]


async def tell_workflows(temporal: Client, news: list[WorkflowNews]) -> None:
    """Signal each workflow its delivery's news, SIGNALS_AT_ONCE at a time. Best effort: most
    have finished long before, and a fallback still waiting reads the delivery's recorded
    status when its window ends (workflows/notification.py), so a lost signal only keeps it
    waiting until then."""
    at_once = asyncio.Semaphore(SIGNALS_AT_ONCE)

    async def tell(news: WorkflowNews) -> None:
        async with at_once:
            await tell_delivery_event(temporal, news.workflow_id, news.event)

    await asyncio.gather(*(tell(n) for n in news))


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
        if change.moved and delivery.workflow_id is not None:
            news.append(
                WorkflowNews(
                    delivery.workflow_id,
                    DeliveryEvent(delivery.id, DeliveryStatus(change.status), occurred_at),
                )
            )
    if event.opt_out:
        # As the unsubscribe link does: a digest's opt-out is from what it collects.
        category = subscription_category(delivery.event_key)
        await switch_off_category(
            session, delivery.tenant_id, delivery.recipient_id, category, delivery.channel
        )
        await record_consent(
            session,
            delivery.tenant_id,
            delivery.recipient_id,
            [opted_out_of(category, delivery.channel)],
            provider_opt_out_source(event.kind),
            {"provider": event.provider, "event": event.kind, "delivery_id": str(delivery.id)},
        )
    if event.invalid_address and delivery.address:
        await mark_address_invalid(
            session, delivery.tenant_id, delivery.channel, delivery.address, event.invalid_address
        )
    return "applied"
