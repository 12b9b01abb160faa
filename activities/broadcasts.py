"""Broadcast activities: BroadcastWorkflow's (workflows/broadcast.py) steps, each set-based.

`plan_broadcast_page` writes one page of the audience in one transaction: every recipient's
notification decided by the same pure policy as a single one (activities/broadcast_planning.py),
its deliveries, the in-app messages delivered at once with their inbox events, and the
broadcast's counters and cursor. Its notifications' idempotency keys make a page written twice
write nothing twice. `release_broadcast_deferred` plans again the deliveries whose deferral is
due; `set_broadcast_status` moves the broadcast (a cancel also cancels what waits);
`send_broadcast_batch` sends (activities/broadcast_sends.py).
"""

import asyncio
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.bookkeeping import bookkeeping_step
from activities.broadcast_planning import (
    Planned,
    Rendered,
    notification_id_for,
    plan_all,
    render_in_app,
    status_of,
)
from activities.broadcast_sends import BroadcastSends
from activities.content import Content
from activities.delivery import DeliveryActivities
from channels.registry import Providers
from config.settings import Settings
from db import broadcast_runs as runs
from db import broadcasts as store
from db.deliveries import NotificationRow
from db.inbox_events import append_created_events
from db.session import autocommit
from domain.broadcasts import (
    FINISHED_BROADCAST_STATUSES,
    BroadcastStatus,
    BroadcastStatusInput,
    PageInput,
    PageResult,
    ReleaseInput,
    ReleaseResult,
    SendBatchInput,
    SendBatchResult,
    broadcast_notification_key,
    merged_page,
    page_parts,
)
from domain.contracts import DigestInput, DigestItem
from domain.digest import digest_summary
from domain.planning import PlannedChannel
from domain.send_failures import SendFailure
from domain.types import Channel, DeliveryStatus, NotificationStatus, event_category
from temporal_clients.digests import add_to_digest

# Digest hand-overs (one signal-with-start each) made at once for a page.
DIGEST_HANDOVERS_AT_ONCE = 20


class BroadcastActivities:
    """`client`: to hand digested recipients to their digests (the worker's Temporal client)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings,
        client: Client | None = None,
        delivery: DeliveryActivities | None = None,
    ):
        """`delivery`: the worker's single-send activities, whose per-provider rate limits and
        circuits broadcast sends must share (two buckets would let a process send at twice a
        provider's PROVIDER_RATE_LIMITS)."""
        self._sessions = sessions
        self._settings = settings
        self._client = client
        self._sends = BroadcastSends(sessions, providers, settings, delivery)

    @activity.defn(name="set_broadcast_status")
    @bookkeeping_step
    async def set_broadcast_status(self, input: BroadcastStatusInput) -> None:
        """RUNNING fills started_at and the audience's size once; CANCELLED also cancels the
        broadcast's deliveries still waiting; a finished broadcast never moves."""
        async with self._sessions.begin() as session:
            broadcast = await _locked(session, input.broadcast_id, input.tenant_id)
            if broadcast.status in FINISHED_BROADCAST_STATUSES:
                return
            total = None
            if input.status == BroadcastStatus.RUNNING:
                total = await store.audience_size(session, broadcast)
            await runs.set_status(session, input.broadcast_id, input.tenant_id, input.status, total)
            if input.status == BroadcastStatus.CANCELLED:
                await runs.cancel_open_deliveries(session, input.broadcast_id)

    @activity.defn(name="plan_broadcast_page")
    @bookkeeping_step
    async def plan_broadcast_page(self, input: PageInput) -> PageResult:
        """The audience's next page after `input.after`, written in BROADCAST_PAGE_PARTS parts
        at once, each in a transaction of its own: while PostgreSQL runs one part's statements,
        the worker decides and renders another's (in one transaction they waited for each
        other: `make bench`)."""
        now = datetime.now(UTC)
        async with autocommit(self._sessions) as session:
            broadcast = _found(
                await store.read_broadcast(session, input.broadcast_id, input.tenant_id),
                input.broadcast_id,
            )
            if broadcast.status in FINISHED_BROADCAST_STATUSES:
                return PageResult(None, 0)
            ids = await store.audience_ids(session, broadcast, input.after, input.limit)
        if not ids:
            return PageResult(None, 0)
        async with asyncio.TaskGroup() as parts:
            written = [
                parts.create_task(self._write_part(input, after, through, now))
                for after, through in page_parts(
                    input.after, ids, self._settings.broadcast_page_parts
                )
            ]
        return merged_page(ids[-1], [part.result() for part in written])

    async def _write_part(
        self, input: PageInput, after: uuid.UUID | None, through: uuid.UUID, now: datetime
    ) -> PageResult | None:
        """The page's recipients in (after, through], written in one transaction; None when the
        broadcast had finished (a cancel came first)."""
        async with self._sessions.begin() as session:
            broadcast = _found(
                await store.lock_page_part(session, input.broadcast_id, input.tenant_id, after),
                input.broadcast_id,
            )
            if broadcast.status in FINISHED_BROADCAST_STATUSES:
                return None
            # No limit: the part was sized by the page's ids a moment ago.
            members = await store.audience_page(session, broadcast, after, through)
            # A recipient an earlier run of this page wrote is not decided again: its counters'
            # slots were taken then.
            wanted = [(m, _notification(broadcast, m)) for m in members if not m.written]
            planned = await plan_all(session, broadcast, wanted, now)
            planned, rendered = await render_in_app(session, broadcast, planned)
            # Before the commit: a hand-over names the notification by its id, which the page
            # written again after a failure keeps, and a digest adds an id once.
            await self._hand_over_digests(broadcast, planned)
            rows = _page_rows(broadcast, planned, rendered)
            written = await store.write_page(session, broadcast, rows)
            await append_created_events(
                session, broadcast.tenant_id, [w.message_id for w in written if w.message_id]
            )
            added = _tally(written)
            await store.advance(session, broadcast.id, through, added)
            pending = Counter(w.channel for w in written if _to_send(w.channel, w.status))
            # Recipients an earlier run wrote: their sends may not have been made yet.
            earlier = [m.recipient.id for m in members if m.written]
            pending.update(await store.pending_counts(session, broadcast.id, earlier))
        return PageResult(
            through,
            added.planned,
            {channel: count for channel, count in pending.items() if channel},
            min(
                (w.deferred_until for w in written if w.status == DeliveryStatus.DEFERRED),
                default=None,
                key=_instant,
            ),
            suppressed=added.suppressed,
            deferred=added.deferred,
            total=broadcast.total,
            sent=added.sent,
            failed=added.failed,
        )

    @activity.defn(name="release_broadcast_deferred")
    @bookkeeping_step
    async def release_broadcast_deferred(self, input: ReleaseInput) -> ReleaseResult:
        """Every delivery of the broadcast deferred until `input.now` or before, decided again
        (as replan_waiting_channels decides a single notification's waiting channels), a page
        of recipients per transaction."""
        result = ReleaseResult()
        pending: Counter[str] = Counter()
        while True:
            async with self._sessions.begin() as session:
                broadcast = await _locked(session, input.broadcast_id, input.tenant_id)
                if broadcast.status in FINISHED_BROADCAST_STATUSES:
                    break
                due = await runs.due_notifications(
                    session, broadcast.id, input.now, self._settings.broadcast_page_size
                )
                if not due:
                    break
                added, sending = await self._release(session, broadcast, due, input.now)
                await store.advance(session, broadcast.id, None, added)
            pending.update(sending)
            result.released += -added.deferred  # what is no longer deferred
            result.suppressed += added.suppressed
            result.sent += added.sent
            result.failed += added.failed
        async with autocommit(self._sessions) as session:
            result.next_deferred_until = await runs.next_deferral(session, input.broadcast_id)
        result.pending = dict(pending)
        return result

    async def _release(
        self,
        session: AsyncSession,
        broadcast: store.BroadcastRow,
        due: list[runs.DueNotification],
        now: datetime,
    ) -> tuple[store.Progress, Counter[str]]:
        """Decide the due deliveries again, store what they became (an in-app message
        delivered now with its event) and their notifications' statuses; what that adds to
        the broadcast's counters (deferred: minus what is no longer deferred), and the
        deliveries to send now by channel."""
        wanted = [
            (d.member, replace(broadcast.notification, id=d.notification_id, channels=list(d.due)))
            for d in due
        ]
        planned = await plan_all(session, broadcast, wanted, now, delivery_ids=[d.due for d in due])
        planned, rendered = await render_in_app(session, broadcast, planned)
        await self._hand_over_digests(broadcast, planned)
        columns: store.Rows = []
        statuses: dict[uuid.UUID, str] = {}
        outcomes: Counter[str] = Counter()
        for d, p in zip(due, planned, strict=True):
            channels = p.channels or [  # its preferences unreadable: what was due fails
                PlannedChannel(delivery_id, channel, DeliveryStatus.FAILED)
                for channel, delivery_id in d.due.items()
            ]
            for c in channels:
                out = rendered.get(c.delivery_id)
                content = out if isinstance(out, Content) else None
                columns.append(
                    dict(
                        id=c.delivery_id,
                        status=c.status.value,
                        status_reason=c.status_reason,
                        deferred_until=c.deferred_until,
                        subject=content.subject if content else None,
                        template_version_id=content.template_version_id if content else None,
                        error=out if isinstance(out, str) else p.failure,
                    )
                )
                outcomes[c.status] += 1
            statuses[d.notification_id] = status_of([*d.others, *(c.status for c in channels)])
        await runs.replan_deliveries(session, columns, statuses)
        stored = await store.store_messages(session, broadcast, _message_rows(planned, rendered))
        await append_created_events(session, broadcast.tenant_id, stored)
        sending = Counter(
            c.channel.value for p in planned for c in p.channels if _to_send(c.channel, c.status)
        )
        released = sum(outcomes.values()) - outcomes[DeliveryStatus.DEFERRED]
        added = store.Progress(
            sent=outcomes[DeliveryStatus.DELIVERED],
            suppressed=outcomes[DeliveryStatus.SUPPRESSED],
            deferred=-released,
            failed=outcomes[DeliveryStatus.FAILED],
        )
        return added, sending

    @activity.defn(name="send_broadcast_batch")
    async def send_broadcast_batch(self, input: SendBatchInput) -> SendBatchResult:
        return await self._sends.send_batch(input)

    async def _hand_over_digests(
        self, broadcast: store.BroadcastRow, planned: list[Planned]
    ) -> None:
        """Each digested notification handed to its recipient's digest, as a single notification's
        workflow hands it over (activities/digest.enqueue_digest)."""
        handovers = []
        for p in planned:
            digested = [c for c in p.channels if c.status == DeliveryStatus.DIGESTED]
            if not digested:
                continue
            first = min(
                digested, key=lambda c: c.deferred_until or datetime.max.replace(tzinfo=UTC)
            )
            if first.deferred_until is None or first.digest_frequency is None:
                raise ValueError(f"digested channel {first.channel} has no flush time or frequency")
            handovers.append((p, first.deferred_until, first.digest_frequency))
        if not handovers:
            return
        if self._client is None:
            raise ApplicationError(
                "this worker has no Temporal client to hand digests over with",
                type=SendFailure.PERMANENT,
                non_retryable=True,
            )
        client = self._client
        category = event_category(broadcast.event_key)
        summary = digest_summary(broadcast.event_key, broadcast.context)
        at_once = asyncio.Semaphore(DIGEST_HANDOVERS_AT_ONCE)

        async def hand_over(p: Planned, flush_at: datetime, frequency) -> None:
            item = DigestItem(
                notification_id=p.notification.id,
                event_key=broadcast.event_key,
                summary=summary,
                created_at=datetime.now(UTC),
                flush_at=flush_at,
            )
            digest = DigestInput(
                broadcast.tenant_id, p.member.recipient.id, category, frequency, flush_at
            )
            async with at_once:
                await add_to_digest(client, self._settings, digest, item)

        await asyncio.gather(*(hand_over(*h) for h in handovers))


def _notification(broadcast: store.BroadcastRow, member: store.Member) -> NotificationRow:
    """The recipient's notification of the broadcast (its id drawn from its idempotency key)."""
    return replace(
        broadcast.notification, id=notification_id_for(broadcast.id, member.recipient.id)
    )


def _to_send(channel: str | None, status: str | None) -> bool:
    """A delivery the broadcast's send batches send (in-app ones are delivered by the page)."""
    return status == DeliveryStatus.PENDING and channel != Channel.IN_APP


def _instant(value: datetime | None) -> datetime:
    return value or datetime.max.replace(tzinfo=UTC)


def _page_rows(
    broadcast: store.BroadcastRow, planned: list[Planned], rendered: Rendered
) -> store.PageRows:
    """The page's notifications, their deliveries and in-app messages, column by column. Each
    keeps the recipient's addresses as they are now, as a single notification does."""
    rows = store.PageRows()
    for p in planned:
        recipient = p.member.recipient
        key = broadcast_notification_key(broadcast.id, recipient.id)
        rows.notifications.append(
            dict(
                id=p.notification.id,
                recipient_id=recipient.id,
                key=key,
                status=p.status.value,
                status_reason=p.failure,
                email=recipient.email,
                phone=recipient.phone,
            )
        )
        for c in p.channels:
            out = rendered.get(c.delivery_id)
            content = out if isinstance(out, Content) else None
            rows.deliveries.append(
                dict(
                    id=c.delivery_id,
                    notification_id=p.notification.id,
                    channel=c.channel.value,
                    address=recipient.address_for(c.channel),
                    status=c.status.value,
                    status_reason=c.status_reason,
                    deferred_until=c.deferred_until,
                    subject=content.subject if content else None,
                    template_version_id=content.template_version_id if content else None,
                    error=out if isinstance(out, str) else None,
                )
            )
    rows.messages = _message_rows(planned, rendered)
    return rows


def _message_rows(planned: list[Planned], rendered: Rendered) -> store.Rows:
    """The in-app messages of the deliveries rendered (MESSAGE_COLUMNS)."""
    messages: store.Rows = []
    for p in planned:
        for c in p.channels:
            content = rendered.get(c.delivery_id)
            if isinstance(content, Content):
                messages.append(
                    dict(
                        id=c.delivery_id,
                        recipient_id=p.member.recipient.id,
                        notification_id=p.notification.id,
                        title=content.subject,
                        body=content.text,
                        action_url=content.action_url,
                    )
                )
    return messages


def _tally(written: list[store.WrittenDelivery]) -> store.Progress:
    """What a page's new rows add to the broadcast's counters: recipients planned, and
    deliveries by outcome (an in-app message delivered counts as sent; a notification whose
    recipient's preferences could not be read, as failed)."""
    statuses = Counter(w.status for w in written if w.status)
    unplannable = sum(
        1
        for w in written
        if w.delivery_id is None and w.notification_status == NotificationStatus.FAILED
    )
    return store.Progress(
        planned=len({w.notification_id for w in written}),
        sent=statuses[DeliveryStatus.DELIVERED],
        suppressed=statuses[DeliveryStatus.SUPPRESSED],
        deferred=statuses[DeliveryStatus.DEFERRED],
        failed=statuses[DeliveryStatus.FAILED] + unplannable,
    )


async def _locked(
    session: AsyncSession, broadcast_id: uuid.UUID, tenant_id: uuid.UUID
) -> store.BroadcastRow:
    return _found(await store.lock_broadcast(session, broadcast_id, tenant_id), broadcast_id)


def _found(broadcast: store.BroadcastRow | None, broadcast_id: uuid.UUID) -> store.BroadcastRow:
    if broadcast is None:
        raise ApplicationError(
            f"broadcast {broadcast_id} not found", type=SendFailure.NOT_FOUND, non_retryable=True
        )
    return broadcast
