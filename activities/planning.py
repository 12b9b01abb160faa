"""The notification workflow's planning steps (run as local activities).

Each asks the pure delivery policy (domain.policy, via domain.planning) what its channels
should do, and records the answer on the delivery rows: `plan_notification` for a new
notification, `replan_waiting_channels` after a wait, `plan_fallback_channel` for a fallback's
channel (decided on the first channel's status as recorded: `recorded_delivery_status`). What
the workflow records later is in activities/outcomes.py.
"""

import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.bookkeeping import bookkeeping_step, reading
from activities.send_counters import Subject, decide_with_counters, subject_of
from db import deliveries as store
from db.delivery_tracking import recorded_status
from db.session import autocommit
from domain import policy
from domain.contracts import (
    ChannelState,
    FallbackPlanInput,
    FallbackSpec,
    Plan,
    PlanInput,
    RecordedStatus,
    RecordedStatusInput,
    ReplanInput,
)
from domain.planning import (
    PlannedChannel,
    notification_status,
    planned_channels,
)
from domain.send_failures import SendFailure
from domain.types import OPEN_DELIVERY_STATUSES, Channel, DeliveryStatus


@dataclass(frozen=True)
class ClaimFirstSend:
    """Which delivery of a new plan the caller sends next (None: none), to be claimed for that
    send, for `lease_seconds`, in the statement that records the plan."""

    pick: Callable[[Plan], uuid.UUID | None]
    lease_seconds: float


@dataclass(frozen=True)
class NewPlan:
    plan: Plan
    # The job of the send ClaimFirstSend picked, claimed; None when none was picked, or when
    # the plan was recorded already (a retry, or another attempt first): the send then reads
    # and claims its job as every send does.
    job: store.DeliveryJob | None = None


class PlanningActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    @activity.defn(name="plan_notification")
    @bookkeeping_step
    async def plan_notification(self, input: PlanInput) -> Plan:
        """Decide every channel as of now (or as of a future send_at) and record the plan.

        Sending now takes the recipient's cap and rate-limit slots atomically with the plan;
        a plan for a later instant takes nothing and is decided again then."""
        return (await self.plan_new(input)).plan

    async def plan_new(self, input: PlanInput, claim: ClaimFirstSend | None = None) -> NewPlan:
        """plan_notification's work; with `claim`, the statement that records a new plan also
        claims the send the caller makes next, and returns its job (plan_and_send)."""
        async with autocommit(self._sessions) as reader:
            loaded = await self._load(input.notification_id, input.tenant_id, reader)
            kept = Plan(
                [], fallback=_fallback_rule(loaded), retry_window_seconds=_retry_window(loaded)
            )
            if loaded.deliveries:  # a retry of this step after it committed
                return NewPlan(replace(kept, channels=[_state(d) for d in loaded.deliveries]))
            as_of = max(input.as_of, input.now) if input.as_of else input.now
            subject = _subject(loaded, as_of)
            if not subject.counted:  # the plan is one statement, atomic alone: the reader's
                return await _record_new_plan(
                    reader, loaded, subject, as_of, input.now, kept, claim
                )
        # Send counters are read and taken in the transaction that records the plan, so no
        # slot is kept for a plan that was not recorded.
        async with self._sessions.begin() as session:
            return await _record_new_plan(session, loaded, subject, as_of, input.now, kept, claim)

    @activity.defn(name="replan_waiting_channels")
    @bookkeeping_step
    async def replan_waiting_channels(self, input: ReplanInput) -> Plan:
        """Decide again exactly the channels still waiting (send_at, quiet hours, a limit),
        even if the preferred method that picked them has changed since."""
        loaded = await self._load(input.notification_id, input.tenant_id)
        waiting = [d.channel for d in loaded.deliveries if d.status in OPEN_DELIVERY_STATUSES]
        loaded = replace(loaded, notification=replace(loaded.notification, channels=waiting))
        subject = _subject(loaded, input.now)
        async with self._sessions.begin() as session:
            decision, slots = await decide_with_counters(
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
    @bookkeeping_step
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
            decision, slots = await decide_with_counters(
                session, subject, loaded.policy_settings, input.now, take_slots=True
            )
            planned = _planned(loaded, decision)
            await store.record_plan(
                session, loaded.notification.id, [_new_row(loaded, p) for p in planned], None
            )
        return Plan([_planned_state(p) for p in planned], slots, _fallback_rule(loaded))

    @activity.defn(name="recorded_delivery_status")
    @bookkeeping_step
    async def recorded_delivery_status(self, input: RecordedStatusInput) -> RecordedStatus:
        """A delivery's status as recorded: what providers' webhooks and the inbox reported on
        it, even when the signal that tells the workflow was lost (Temporal unreachable then)."""
        async with autocommit(self._sessions) as reader:
            status = await recorded_status(reader, input.delivery_id, input.tenant_id)
        return RecordedStatus(DeliveryStatus(status) if status is not None else None)

    async def _load(
        self,
        notification_id: uuid.UUID,
        tenant_id: uuid.UUID,
        reader: AsyncSession | None = None,
    ) -> store.NotificationContext:
        """In `reader` (an autocommit session), or in a session of its own."""
        async with nullcontext(reader) if reader else autocommit(self._sessions) as session:
            with reading("the notification, its recipient or its tenant's policy settings"):
                loaded = await store.load_notification_context(session, notification_id, tenant_id)
        if loaded is None:
            raise ApplicationError(
                "notification not found", type=SendFailure.NOT_FOUND, non_retryable=True
            )
        return loaded


async def _record_new_plan(
    session: AsyncSession,
    loaded: store.NotificationContext,
    subject: Subject,
    as_of: datetime,
    now: datetime,
    kept: Plan,
    claim: ClaimFirstSend | None,
) -> NewPlan:
    """Decide every channel as of `as_of` (taking the send counters' slots when that is now)
    and record the plan: its deliveries and the notification's status. `kept`: what the plan
    carries from the notification's context (its fallback rule, its retry window)."""
    decision, slots = await decide_with_counters(
        session, subject, loaded.policy_settings, as_of, take_slots=as_of <= now
    )
    planned = _planned(loaded, decision)
    plan = replace(kept, channels=[_planned_state(p) for p in planned], slots=slots)
    first = claim.pick(plan) if claim else None
    job = await store.record_plan(
        session,
        loaded.notification.id,
        [_new_row(loaded, p) for p in planned],
        notification_status(planned, scheduled=as_of > now),
        claim=None if claim is None or first is None else (first, claim.lease_seconds),
    )
    return NewPlan(plan, job)


def _subject(loaded: store.NotificationContext, as_of: datetime) -> Subject:
    with reading("the recipient's timezone or preferences"):
        return subject_of(loaded, as_of)


def _fallback_rule(loaded: store.NotificationContext) -> FallbackSpec | None:
    event_key = loaded.notification.event_key
    rule = loaded.fallbacks.get(event_key)
    if not rule:
        return None
    with reading(f"the tenant's fallback rule for {event_key}"):
        return FallbackSpec(
            Channel(rule["from_channel"]),
            Channel(rule["to_channel"]),
            rule["unless"],
            rule["within_minutes"],
        )


def _planned(loaded: store.NotificationContext, decision: policy.Decision) -> list[PlannedChannel]:
    ids = {
        c.channel: store.delivery_id_for(loaded.notification.id, c.channel)
        for c in decision.channels
    }
    return planned_channels(decision, ids, loaded.invalid_addresses)


def _new_row(loaded: store.NotificationContext, planned: PlannedChannel) -> dict[str, object]:
    address = loaded.recipient.address_for(planned.channel)
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
        Channel(delivery.channel),
        DeliveryStatus(delivery.status),
        delivery.status_reason,
        delivery.error,
        until=delivery.deferred_until,
    )


def _retry_window(loaded: store.NotificationContext) -> float | None:
    """The tenant's retry window for this notification's sends, in seconds, when it set one."""
    minutes = loaded.policy_settings.retry_window_minutes
    return minutes * 60.0 if minutes else None
