"""Bookkeeping activities of the notification workflow (run as local activities).

`prepare_notification` asks the pure delivery policy (domain.policy) what each channel
should do now and records the answer on the delivery rows; `record_outcome` records what
the workflow decided at the end.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import deliveries as store
from db import policy_store
from db.session import autocommit
from domain import policy
from domain.contracts import (
    ChannelState,
    CounterSlot,
    FailoverInput,
    FallbackSpec,
    PrepareInput,
    PrepareResult,
    RecordOutcomeInput,
)
from domain.outcome import DECIDED_ENDS, overall_status
from domain.preferences import effective_preferences
from domain.send_windows import local_day_start, rate_window
from domain.send_failures import SendFailure
from domain.types import OPEN_DELIVERY_STATUSES, Channel, DeliveryStatus, NotificationStatus

REMINDERS_DAY, RATE_WINDOW = "reminders_day", "rate_window"
_STATUS = {
    policy.Action.SEND_NOW: DeliveryStatus.PENDING,
    policy.Action.DEFER: DeliveryStatus.DEFERRED,
    policy.Action.DIGEST: DeliveryStatus.DIGESTED,
    policy.Action.SUPPRESSED: DeliveryStatus.SUPPRESSED,
}


class PlanningActivities:
    def __init__(self, sessions: async_sessionmaker):
        self._sessions = sessions

    @activity.defn(name="prepare_notification")
    async def prepare_notification(self, input: PrepareInput) -> PrepareResult:
        """Decide each (open) channel as of `as_of` and record the decisions.

        A decision for sending now takes the recipient's cap and rate-limit slots atomically;
        one for a later instant (a future send_at) takes nothing and is decided again then."""
        notification_id, tenant_id = uuid.UUID(input.notification_id), uuid.UUID(input.tenant_id)
        now = datetime.fromisoformat(input.now)
        as_of = max(datetime.fromisoformat(input.as_of), now) if input.as_of else now
        async with autocommit(self._sessions) as reader:
            loaded = await store.load_notification_context(reader, notification_id, tenant_id)
        if loaded is None:
            raise ApplicationError("notification not found", type=SendFailure.NOT_FOUND, non_retryable=True)
        rule = loaded.fallbacks.get(loaded.notification.event_key)
        fallback = FallbackSpec(**rule) if rule else None
        if input.add_channel:
            loaded = _only_channel(loaded, input.add_channel)
        elif input.reevaluate:
            loaded = _open_channels_only(loaded)
        elif loaded.deliveries:  # a retry after this step committed
            return PrepareResult([_state(d) for d in loaded.deliveries], fallback=fallback)
        subject = _subject(loaded, as_of)
        # Send counters are read and taken in the transaction that records the plan, so no
        # slot is kept for a plan that was not recorded. Without counters, a new plan is
        # written in one statement, which needs no transaction.
        in_transaction = subject.counted or input.reevaluate
        async with self._sessions.begin() if in_transaction else autocommit(self._sessions) as session:
            decision, slots = await _decide(session, subject, loaded.policy_settings, as_of, take_slots=as_of <= now)
            decided = _rows(loaded, decision, only_open=input.reevaluate)
            _suppress_invalid_addresses(loaded, decided)
            states = [_decided_state(r) for r in decided]
            status = None if input.add_channel else _status(states, as_of > now)
            if input.reevaluate:
                for row in decided:
                    await store.update_delivery(
                        session, row["id"], only_if_open=True, status=row["status"],
                        status_reason=row["status_reason"], deferred_until=row["deferred_until"],
                    )
                await store.set_notification_status(session, notification_id, status)
            else:
                await store.record_plan(session, notification_id, [_new_row(loaded, r) for r in decided], status)
        return PrepareResult(states, slots, fallback)

    @activity.defn(name="record_failover")
    async def record_failover(self, input: FailoverInput) -> None:
        """Note on the delivery which provider it left, for which, and why."""
        async with self._sessions.begin() as session:
            await store.append_failover(
                session, uuid.UUID(input.delivery_id), input.from_provider, input.to_provider, input.reason
            )

    @activity.defn(name="record_outcome")
    async def record_outcome(self, input: RecordOutcomeInput) -> None:
        """Record failures, cancellations, given-back slots and the notification's status."""
        ended = [c for c in input.channels if c.status in DECIDED_ENDS]
        if not ended and not input.release_slots and input.notification_status:
            # The usual end, every channel sent: one UPDATE, which needs no transaction around it.
            async with autocommit(self._sessions) as session:
                await store.set_notification_status(
                    session, uuid.UUID(input.notification_id), input.notification_status
                )
            return
        async with self._sessions.begin() as session:
            for channel in ended:
                await store.update_delivery(
                    session, uuid.UUID(channel.delivery_id), only_if_open=True,
                    status=channel.status, status_reason=channel.reason,
                    **({"error": channel.error, "failed_at": store.now()}
                       if channel.status == DeliveryStatus.FAILED else {}),
                )
            if input.release_slots:
                loaded = await store.load_notification_context(
                    session, uuid.UUID(input.notification_id), uuid.UUID(input.tenant_id)
                )
                for slot in input.release_slots:
                    await policy_store.give_back_slot(
                        session, loaded.recipient.id, slot.kind, datetime.fromisoformat(slot.window_start)
                    )
            status = input.notification_status or await _status_from_latest_deliveries(
                session, uuid.UUID(input.notification_id)
            )
            await store.set_notification_status(session, uuid.UUID(input.notification_id), status)


async def _status_from_latest_deliveries(session: AsyncSession, notification_id: uuid.UUID) -> str:
    """After a resend, each channel counts with its newest attempt chain."""
    return overall_status(await store.latest_statuses(session, notification_id))


@dataclass(frozen=True)
class _Subject:
    """What the policy decides about, and which of the recipient's send counters apply."""

    what: policy.Notification
    who: policy.Recipient
    recipient_id: uuid.UUID
    reminder_day: datetime | None  # the recipient's local day, when this is a (daily capped) reminder
    rate_window: tuple[datetime, datetime] | None  # when the recipient has a rate limit

    @property
    def counted(self) -> bool:
        return self.reminder_day is not None or self.rate_window is not None


def _subject(loaded: store.NotificationContext, as_of: datetime) -> _Subject:
    notification, recipient = loaded.notification, loaded.recipient
    prefs = effective_preferences(loaded.preference_defaults, recipient.preference_overrides)
    who = policy.Recipient(
        preferences=prefs,
        addresses=_addresses(recipient),
        timezone=recipient.timezone,
        locale=recipient.locale,
    )
    is_reminder = notification.event_key in loaded.policy_settings.reminder_event_keys
    return _Subject(
        policy.Notification(notification.event_key, notification.priority, notification.channels),
        who,
        recipient.id,
        local_day_start(as_of, who.zone) if is_reminder else None,
        rate_window(as_of, prefs.rate_limit.window_minutes) if prefs.rate_limit else None,
    )


async def _decide(
    session: AsyncSession,
    subject: _Subject,
    settings: policy.TenantSettings,
    as_of: datetime,
    take_slots: bool,
) -> tuple[policy.Decision, list[CounterSlot]]:
    what, who, recipient_id = subject.what, subject.who, subject.recipient_id
    prefs, day, window = who.preferences, subject.reminder_day, subject.rate_window
    # Only reminders count against the daily cap: other notifications skip that read.
    reminders_today = await policy_store.sent_in(session, recipient_id, REMINDERS_DAY, day) if day else 0
    counts = policy.SendCounts(reminders_sent_today=reminders_today)
    if window:
        counts = replace(
            counts,
            sent_in_rate_window=await policy_store.sent_in(session, recipient_id, RATE_WINDOW, window[0]),
            rate_window_frees_at=window[1],
        )
    decision = policy.decide(what, who, as_of, counts, settings)
    slots: list[CounterSlot] = []
    if not take_slots or not decision.send_now():
        return decision, slots
    # Take the slots the policy counted on; if another notification took the last one
    # in the meantime, decide again as if the window were full.
    if day:
        if await policy_store.take_slot(session, recipient_id, REMINDERS_DAY, day, prefs.max_reminders_per_day):
            slots.append(CounterSlot(REMINDERS_DAY, day.isoformat()))
        else:
            counts = replace(counts, reminders_sent_today=prefs.max_reminders_per_day)
            decision = policy.decide(what, who, as_of, counts, settings)
    if window and decision.send_now():
        if await policy_store.take_slot(session, recipient_id, RATE_WINDOW, window[0], prefs.rate_limit.max_count):
            slots.append(CounterSlot(RATE_WINDOW, window[0].isoformat()))
        else:
            counts = replace(counts, sent_in_rate_window=prefs.rate_limit.max_count)
            decision = policy.decide(what, who, as_of, counts, settings)
    return decision, slots


def _open_channels_only(loaded: store.NotificationContext) -> store.NotificationContext:
    """Decide again exactly the channels still waiting, even if the preferred method (which
    picked them) has changed since: every waiting channel gets a new decision."""
    waiting = [d.channel for d in loaded.deliveries if d.status in OPEN_DELIVERY_STATUSES]
    return replace(loaded, notification=replace(loaded.notification, channels=waiting))


def _only_channel(loaded: store.NotificationContext, channel: str) -> store.NotificationContext:
    """The notification as if it named just `channel` (a fallback's own decision)."""
    notification = replace(loaded.notification, channels=[channel])
    return replace(loaded, notification=notification, deliveries=[])


def _addresses(recipient: store.RecipientRow) -> set[Channel]:
    present = {Channel.IN_APP}
    if recipient.email:
        present.add(Channel.EMAIL)
    if recipient.phone:
        present.add(Channel.SMS)
    return present


def _rows(loaded: store.NotificationContext, decision: policy.Decision, only_open: bool) -> list[dict]:
    open_channels = {d.channel for d in loaded.deliveries if d.status in OPEN_DELIVERY_STATUSES}
    rows = []
    for choice in decision.channels:
        if only_open and choice.channel not in open_channels:
            continue
        rows.append(
            dict(
                id=store.delivery_id_for(loaded.notification.id, choice.channel),
                channel=str(choice.channel),
                status=_STATUS[choice.action],
                status_reason=f"{choice.code}: {choice.reason}" if choice.code else None,
                deferred_until=choice.until,
                digest_frequency=str(choice.digest_frequency) if choice.digest_frequency else None,
            )
        )
    return rows


def _suppress_invalid_addresses(loaded: store.NotificationContext, rows: list[dict]) -> None:
    """An address a provider reported as undeliverable (hard bounce, dead number) is not tried again."""
    for row in rows:
        if row["status"] == DeliveryStatus.SUPPRESSED:
            continue
        reason = loaded.invalid_addresses.get(row["channel"])
        if reason:
            row.update(status=DeliveryStatus.SUPPRESSED, status_reason=f"invalid_address: {reason}",
                       deferred_until=None, digest_frequency=None)


def _address(recipient: store.RecipientRow, channel: str) -> str | None:
    return {"email": recipient.email, "sms": recipient.phone}.get(channel)


def _new_row(loaded: store.NotificationContext, row: dict) -> dict:
    return dict(
        id=row["id"],
        tenant_id=loaded.notification.tenant_id,
        notification_id=loaded.notification.id,
        channel=row["channel"],
        address=_address(loaded.recipient, row["channel"]),
        status=row["status"],
        status_reason=row["status_reason"],
        deferred_until=row["deferred_until"],
    )


def _decided_state(row: dict) -> ChannelState:
    until = row["deferred_until"]
    return ChannelState(
        str(row["id"]),
        row["channel"],
        row["status"],
        row["status_reason"],
        until=until.isoformat() if until else None,
        digest_frequency=row["digest_frequency"],
    )


def _status(states: list[ChannelState], scheduled: bool) -> NotificationStatus:
    statuses = {s.status for s in states}
    if DeliveryStatus.PENDING in statuses:
        return NotificationStatus.SCHEDULED if scheduled else NotificationStatus.SENDING
    if DeliveryStatus.DEFERRED in statuses:
        return NotificationStatus.DEFERRED
    if DeliveryStatus.DIGESTED in statuses:
        return NotificationStatus.DIGESTED
    return NotificationStatus.SUPPRESSED


def _state(delivery: store.DeliveryRow) -> ChannelState:
    until = delivery.deferred_until
    return ChannelState(
        str(delivery.id), delivery.channel, delivery.status, delivery.status_reason, delivery.error,
        until=until.isoformat() if until else None,
    )
