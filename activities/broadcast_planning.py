"""A broadcast's recipients planned in bulk, with the same pure policy as one notification.

For each recipient, the notification it gets is read as planning reads a single one
(db.deliveries.NotificationContext, then activities.send_counters.subject_of), decided by
domain.policy.decide and turned into deliveries by domain.planning: only the reads
(db/broadcasts.py) and the send counters' slots (below) are taken for the whole page at once.
In-app deliveries due now are rendered here, each template compiled once, in one call to the
render thread.
"""

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.bookkeeping import describe, reading
from activities.content import Content, read_templates, render_read
from activities.send_counters import RATE_WINDOW, REMINDERS_DAY, Subject, subject_of
from db import broadcasts as store
from db.deliveries import NotificationContext, NotificationRow, RecipientRow, delivery_id_for
from db.template_lookup import SendTemplates
from domain import policy
from domain.broadcasts import broadcast_notification_key
from domain.name_based_ids import NameBasedIds
from domain.outcome import overall_status
from domain.planning import PlannedChannel, planned_channels
from domain.preferences import Preferences, effective_preferences
from domain.templating.render_thread import in_render_thread
from domain.types import Channel, DeliveryStatus, NotificationStatus

# Notification ids are drawn from the idempotency key: a page planned again computes the same
# rows (its digest hand-overs name the same notifications).
BROADCAST_NAMESPACE = uuid.UUID("2b0d6f1e-6a8e-4f0c-9c55-5e0f4b8c1d27")
_notification_ids = NameBasedIds(BROADCAST_NAMESPACE)


def notification_id_for(broadcast_id: uuid.UUID, recipient_id: uuid.UUID) -> uuid.UUID:
    return _notification_ids(broadcast_notification_key(broadcast_id, recipient_id))


@dataclass(frozen=True)
class Planned:
    """One recipient's notification as decided; `failure` when its stored preferences (or
    time zone) could not be read: the notification fails, as a single one's planning would."""

    notification: NotificationRow
    member: store.Member
    channels: list[PlannedChannel]
    decision: policy.Decision | None = None
    failure: str | None = None

    @property
    def status(self) -> NotificationStatus:
        return (
            NotificationStatus.FAILED
            if self.failure
            else status_of([c.status for c in self.channels])
        )


def status_of(statuses: Collection[str]) -> NotificationStatus:
    """A notification's status from its channels' once they are planned and its in-app message
    stored: as domain.planning.notification_status while a channel waits, else as the workflow
    settles it (domain.outcome.overall_status)."""
    statuses = set(statuses)
    if DeliveryStatus.PENDING in statuses:
        return NotificationStatus.SENDING
    if DeliveryStatus.DEFERRED in statuses:
        return NotificationStatus.DEFERRED
    return overall_status(statuses)


def context_of(
    broadcast: store.BroadcastRow, member: store.Member, notification: NotificationRow
) -> NotificationContext:
    """What planning would load for this one notification (db.deliveries)."""
    return NotificationContext(
        notification,
        member.recipient,
        broadcast.preference_defaults,
        [],
        broadcast.policy_settings,
        {},
        member.invalid_addresses,
        member.unsubscribed,
    )


async def plan_all(
    session: AsyncSession,
    broadcast: store.BroadcastRow,
    wanted: list[tuple[store.Member, NotificationRow]],
    now: datetime,
    delivery_ids: list[dict[Channel, uuid.UUID]] | None = None,
) -> list[Planned]:
    """Decide each recipient's notification (its `channels` as given) at `now`, taking the send
    counters' slots for what goes now. `delivery_ids`: each one's deliveries by channel (new
    deliveries get planning's deterministic ids)."""
    subjects: list[Subject | None] = []
    failures: list[str | None] = []
    # Most recipients share their overrides (none, often): each distinct document is resolved
    # once a page, not once a recipient.
    resolved: dict[str, Preferences] = {}
    for member, notification in wanted:
        try:
            with reading("the recipient's timezone or preferences"):
                overrides = member.recipient.preference_overrides
                key = json.dumps(overrides, sort_keys=True)
                if key not in resolved:
                    resolved[key] = effective_preferences(broadcast.preference_defaults, overrides)
                loaded = context_of(broadcast, member, notification)
                subjects.append(subject_of(loaded, now, resolved[key]))
            failures.append(None)
        except Exception as err:  # this recipient's stored state: the others go on
            subjects.append(None)
            failures.append(describe(err))
    decisions = await decide_all(
        session, [s for s in subjects if s is not None], broadcast.policy_settings, now
    )
    decided = iter(decisions)
    planned = []
    for i, (member, notification) in enumerate(wanted):
        if subjects[i] is None:
            planned.append(Planned(notification, member, [], failure=failures[i]))
            continue
        decision = next(decided)
        ids = (
            delivery_ids[i]
            if delivery_ids
            else {c.channel: delivery_id_for(notification.id, c.channel) for c in decision.channels}
        )
        if delivery_ids:  # only the channels asked about (as replan_waiting_channels)
            decision = policy.Decision(tuple(c for c in decision.channels if c.channel in ids))
        channels = planned_channels(decision, ids, member.invalid_addresses)
        planned.append(Planned(notification, member, channels, decision))
    return planned


async def decide_all(
    session: AsyncSession, subjects: list[Subject], settings: policy.TenantSettings, now: datetime
) -> list[policy.Decision]:
    """send_counters.decide_with_counters (taking slots) for many recipients: their counters read
    in one statement, and the slots of each kind taken in one, in the same order."""
    day_keys = [_day_key(s) for s in subjects]
    window_keys = [_window_key(s) for s in subjects]
    sent = await store.sent_counts(session, [k for k in (*day_keys, *window_keys) if k is not None])
    counts = [
        policy.SendCounts(
            reminders_sent_today=sent.get(day, 0) if day else 0,
            sent_in_rate_window=sent.get(window, 0) if window else 0,
            rate_window_frees_at=s.rate_window[1] if s.rate_window else None,
        )
        for s, day, window in zip(subjects, day_keys, window_keys, strict=True)
    ]
    decisions = [
        policy.decide(s.what, s.who, now, c, settings)
        for s, c in zip(subjects, counts, strict=True)
    ]

    async def take(keys: list[store.CounterKey | None], cap_of, full) -> None:
        """Take each sending recipient's slot; one whose counter is full is decided again as
        if it were (another notification took the last slot meanwhile)."""
        wanted = [
            (i, key, cap_of(subjects[i]))
            for i, key in enumerate(keys)
            if key is not None and cap_of(subjects[i]) is not None and decisions[i].send_now()
        ]
        taken = await store.take_slots(session, [(key, cap) for _i, key, cap in wanted])
        for i, key, cap in wanted:
            if key not in taken:
                counts[i] = full(counts[i], cap)
                decisions[i] = policy.decide(
                    subjects[i].what, subjects[i].who, now, counts[i], settings
                )

    await take(
        day_keys,
        lambda s: s.who.preferences.max_reminders_per_day,
        lambda c, cap: replace(c, reminders_sent_today=cap),
    )
    await take(
        window_keys,
        lambda s: s.who.preferences.rate_limit.max_count if s.who.preferences.rate_limit else None,
        lambda c, cap: replace(c, sent_in_rate_window=cap),
    )
    return decisions


def _day_key(subject: Subject) -> store.CounterKey | None:
    day = subject.reminder_day
    return (subject.recipient_id, REMINDERS_DAY, day) if day else None


def _window_key(subject: Subject) -> store.CounterKey | None:
    window = subject.rate_window
    return (subject.recipient_id, RATE_WINDOW, window[0]) if window else None


Rendered = dict[uuid.UUID, Content | str]  # delivery id -> its content, or why it has none


async def render_in_app(
    session: AsyncSession, broadcast: store.BroadcastRow, planned: list[Planned]
) -> tuple[list[Planned], Rendered]:
    """Each in-app delivery due now, rendered: delivered with its content (which the caller
    stores), or failed with the reason the content cannot be rendered."""
    due = [
        (p, c)
        for p in planned
        for c in p.channels
        if c.channel == Channel.IN_APP and c.status == DeliveryStatus.PENDING
    ]
    if not due:
        return planned, {}
    found = await read_templates(
        session, broadcast.tenant_id, Channel.IN_APP, broadcast.notification
    )
    recipients = [p.member.recipient for p, _c in due]
    contents = await in_render_thread(_render_each, found, broadcast.notification, recipients)
    rendered: Rendered = {c.delivery_id: out for (_p, c), out in zip(due, contents, strict=True)}

    def settled(p: Planned) -> Planned:
        if not any(c.delivery_id in rendered for c in p.channels):
            return p
        channels = [
            c
            if c.delivery_id not in rendered
            else PlannedChannel(
                c.delivery_id,
                c.channel,
                DeliveryStatus.FAILED
                if isinstance(rendered[c.delivery_id], str)
                else DeliveryStatus.DELIVERED,
                c.status_reason,
            )
            for c in p.channels
        ]
        return Planned(p.notification, p.member, channels, p.decision, p.failure)

    return [settled(p) for p in planned], rendered


def _render_each(
    found: SendTemplates, notification: NotificationRow, recipients: list[RecipientRow]
) -> list[Content | str]:
    """In the render thread: each recipient's content, or why it cannot be rendered."""
    out: list[Content | str] = []
    for recipient in recipients:
        try:
            out.append(render_read(found, Channel.IN_APP, notification, recipient))
        except ApplicationError as err:
            out.append(f"{err.type}: {err.message}")
    return out
