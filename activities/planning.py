"""Bookkeeping activities of the notification workflow (run as local activities).

Three planning steps ask the pure delivery policy (domain.policy, via domain.planning) what
each channel should do and record the answer on the delivery rows: `plan_notification` for
a new notification, `replan_waiting_channels` after a wait, `plan_fallback_channel` for a
fallback's channel. `record_outcome` records what the workflow decided at the end, and
`record_failover` notes a move to the next provider.
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
    FallbackPlanInput,
    FallbackSpec,
    Plan,
    PlanInput,
    RecordOutcomeInput,
    ReplanInput,
)
from domain.outcome import DECIDED_ENDS, overall_status
from domain.planning import (
    PlannedChannel,
    notification_status,
    planned_channels,
    reachable_channels,
)
from domain.preferences import effective_preferences
from domain.send_failures import SendFailure
from domain.send_windows import local_day_start, rate_window
from domain.types import OPEN_DELIVERY_STATUSES, DeliveryStatus, Priority

REMINDERS_DAY, RATE_WINDOW = "reminders_day", "rate_window"


class PlanningActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    @activity.defn(name="plan_notification")
    async def plan_notification(self, input: PlanInput) -> Plan:
        """Decide every channel as of now (or as of a future send_at) and record the plan.

        Sending now takes the recipient's cap and rate-limit slots atomically with the plan;
        a plan for a later instant takes nothing and is decided again then."""
        loaded = await self._load(input.notification_id, input.tenant_id)
        fallback = _fallback_rule(loaded)
        if loaded.deliveries:  # a retry of this step after it committed
            return Plan([_state(d) for d in loaded.deliveries], fallback=fallback)
        as_of = max(input.as_of, input.now) if input.as_of else input.now
        subject = _subject(loaded, as_of)
        # Send counters are read and taken in the transaction that records the plan, so no
        # slot is kept for a plan that was not recorded. Without counters, the plan is
        # written in one statement, which needs no transaction.
        async with (
            self._sessions.begin() if subject.counted else autocommit(self._sessions) as session
        ):
            decision, slots = await _decide(
                session, subject, loaded.policy_settings, as_of, take_slots=as_of <= input.now
            )
            planned = _planned(loaded, decision)
            status = notification_status(planned, scheduled=as_of > input.now)
            await store.record_plan(
                session, loaded.notification.id, [_new_row(loaded, p) for p in planned], status
            )
        return Plan([_planned_state(p) for p in planned], slots, fallback)

    @activity.defn(name="replan_waiting_channels")
    async def replan_waiting_channels(self, input: ReplanInput) -> Plan:
        """Decide again exactly the channels still waiting (send_at, quiet hours, a limit),
        even if the preferred method that picked them has changed since."""
        loaded = await self._load(input.notification_id, input.tenant_id)
        waiting = [d.channel for d in loaded.deliveries if d.status in OPEN_DELIVERY_STATUSES]
        loaded = replace(loaded, notification=replace(loaded.notification, channels=waiting))
        subject = _subject(loaded, input.now)
        async with self._sessions.begin() as session:
            decision, slots = await _decide(
                session, subject, loaded.policy_settings, input.now, take_slots=True
            )
            planned = [p for p in _planned(loaded, decision) if p.channel in waiting]
            for channel in planned:
                await store.update_delivery(
                    session,
                    channel.delivery_id,
                    only_if_open=True,
                    status=channel.status,
                    status_reason=channel.status_reason,
                    deferred_until=channel.deferred_until,
                )
            await store.set_notification_status(
                session, loaded.notification.id, notification_status(planned, False)
            )
        return Plan([_planned_state(p) for p in planned], slots, _fallback_rule(loaded))

    @activity.defn(name="plan_fallback_channel")
    async def plan_fallback_channel(self, input: FallbackPlanInput) -> Plan:
        """The notification as if it named just the fallback's channel: decided on its own
        (the recipient's preferences and limits apply to it too) and added to the plan."""
        loaded = await self._load(input.notification_id, input.tenant_id)
        loaded = replace(
            loaded,
            notification=replace(loaded.notification, channels=[input.channel]),
            deliveries=[],
        )
        subject = _subject(loaded, input.now)
        async with (
            self._sessions.begin() if subject.counted else autocommit(self._sessions) as session
        ):
            decision, slots = await _decide(
                session, subject, loaded.policy_settings, input.now, take_slots=True
            )
            planned = _planned(loaded, decision)
            await store.record_plan(
                session, loaded.notification.id, [_new_row(loaded, p) for p in planned], None
            )
        return Plan([_planned_state(p) for p in planned], slots, _fallback_rule(loaded))

    async def _load(
        self, notification_id: uuid.UUID, tenant_id: uuid.UUID
    ) -> store.NotificationContext:
        async with autocommit(self._sessions) as reader:
            loaded = await store.load_notification_context(reader, notification_id, tenant_id)
        if loaded is None:
            raise ApplicationError(
                "notification not found", type=SendFailure.NOT_FOUND, non_retryable=True
            )
        return loaded

    @activity.defn(name="record_failover")
    async def record_failover(self, input: FailoverInput) -> None:
        """Note on the delivery which provider it left, for which, and why."""
        async with self._sessions.begin() as session:
            await store.append_failover(
                session, input.delivery_id, input.from_provider, input.to_provider, input.reason
            )

    @activity.defn(name="record_outcome")
    async def record_outcome(self, input: RecordOutcomeInput) -> None:
        """Record failures, cancellations, given-back slots and the notification's status."""
        ended = [c for c in input.channels if c.status in DECIDED_ENDS]
        if not ended and not input.release_slots and input.notification_status:
            # The usual end, every channel sent: one UPDATE, which needs no transaction around it.
            async with autocommit(self._sessions) as session:
                await store.set_notification_status(
                    session, input.notification_id, input.notification_status
                )
            return
        async with self._sessions.begin() as session:
            for channel in ended:
                await store.update_delivery(
                    session,
                    channel.delivery_id,
                    only_if_open=True,
                    status=channel.status,
                    status_reason=channel.reason,
                    **(
                        {"error": channel.error, "failed_at": store.now()}
                        if channel.status == DeliveryStatus.FAILED
                        else {}
                    ),
                )
            if input.release_slots:
                loaded = await store.load_notification_context(
                    session, input.notification_id, input.tenant_id
                )
                if loaded is not None:
                    for slot in input.release_slots:
                        await policy_store.give_back_slot(
                            session, loaded.recipient.id, slot.kind, slot.window_start
                        )
            status = input.notification_status or await _status_from_latest_deliveries(
                session, input.notification_id
            )
            await store.set_notification_status(session, input.notification_id, status)


async def _status_from_latest_deliveries(session: AsyncSession, notification_id: uuid.UUID) -> str:
    """After a resend, each channel counts with its newest attempt chain."""
    return overall_status(await store.latest_statuses(session, notification_id))


def _fallback_rule(loaded: store.NotificationContext) -> FallbackSpec | None:
    rule = loaded.fallbacks.get(loaded.notification.event_key)
    return FallbackSpec(**rule) if rule else None


@dataclass(frozen=True)
class _Subject:
    """What the policy decides about, and which of the recipient's send counters apply."""

    what: policy.Notification
    who: policy.Recipient
    recipient_id: uuid.UUID
    # The recipient's local day, when this is a (daily capped) reminder.
    reminder_day: datetime | None
    rate_window: tuple[datetime, datetime] | None  # when the recipient has a rate limit

    @property
    def counted(self) -> bool:
        return self.reminder_day is not None or self.rate_window is not None


def _subject(loaded: store.NotificationContext, as_of: datetime) -> _Subject:
    notification, recipient = loaded.notification, loaded.recipient
    prefs = effective_preferences(loaded.preference_defaults, recipient.preference_overrides)
    who = policy.Recipient(
        preferences=prefs,
        addresses=reachable_channels(recipient.email, recipient.phone),
        timezone=recipient.timezone,
        locale=recipient.locale,
    )
    is_reminder = notification.event_key in loaded.policy_settings.reminder_event_keys
    return _Subject(
        policy.Notification(
            notification.event_key, Priority(notification.priority), notification.channels
        ),
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
    reminders_today = (
        await policy_store.sent_in(session, recipient_id, REMINDERS_DAY, day) if day else 0
    )
    counts = policy.SendCounts(reminders_sent_today=reminders_today)
    if window:
        counts = replace(
            counts,
            sent_in_rate_window=await policy_store.sent_in(
                session, recipient_id, RATE_WINDOW, window[0]
            ),
            rate_window_frees_at=window[1],
        )
    decision = policy.decide(what, who, as_of, counts, settings)
    slots: list[CounterSlot] = []
    if not take_slots or not decision.send_now():
        return decision, slots
    # Take the slots the policy counted on; if another notification took the last one
    # in the meantime, decide again as if the window were full.
    if day:
        if await policy_store.take_slot(
            session, recipient_id, REMINDERS_DAY, day, prefs.max_reminders_per_day
        ):
            slots.append(CounterSlot(REMINDERS_DAY, day))
        else:
            counts = replace(counts, reminders_sent_today=prefs.max_reminders_per_day)
            decision = policy.decide(what, who, as_of, counts, settings)
    if window and prefs.rate_limit and decision.send_now():
        if await policy_store.take_slot(
            session, recipient_id, RATE_WINDOW, window[0], prefs.rate_limit.max_count
        ):
            slots.append(CounterSlot(RATE_WINDOW, window[0]))
        else:
            counts = replace(counts, sent_in_rate_window=prefs.rate_limit.max_count)
            decision = policy.decide(what, who, as_of, counts, settings)
    return decision, slots


def _planned(loaded: store.NotificationContext, decision: policy.Decision) -> list[PlannedChannel]:
    ids = {
        c.channel: store.delivery_id_for(loaded.notification.id, c.channel)
        for c in decision.channels
    }
    return planned_channels(decision, ids, loaded.invalid_addresses)


def _new_row(loaded: store.NotificationContext, planned: PlannedChannel) -> dict[str, object]:
    address = {"email": loaded.recipient.email, "sms": loaded.recipient.phone}.get(planned.channel)
    return dict(
        id=planned.delivery_id,
        tenant_id=loaded.notification.tenant_id,
        notification_id=loaded.notification.id,
        channel=planned.channel,
        address=address,
        status=planned.status,
        status_reason=planned.status_reason,
        deferred_until=planned.deferred_until,
    )


def _planned_state(planned: PlannedChannel) -> ChannelState:
    return ChannelState(
        planned.delivery_id,
        planned.channel,
        planned.status,
        planned.status_reason,
        until=planned.deferred_until,
        digest_frequency=planned.digest_frequency,
    )


def _state(delivery: store.DeliveryRow) -> ChannelState:
    return ChannelState(
        delivery.id,
        delivery.channel,
        DeliveryStatus(delivery.status),
        delivery.status_reason,
        delivery.error,
        until=delivery.deferred_until,
    )
