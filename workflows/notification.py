"""NotificationWorkflow: one durable workflow per notification, from plan to final status."""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities
    from activities.immediate import ImmediateActivities
    from activities.outcomes import OutcomeActivities
    from activities.planning import PlanningActivities
    from domain.bookkeeping import NON_RETRYABLE
    from domain.contracts import (
        CancelResult,
        ChannelState,
        DeliveryEvent,
        EnqueueDigestInput,
        FallbackPlanInput,
        FallbackSpec,
        FirstAttempt,
        NotificationInput,
        NotificationResult,
        Plan,
        PlanAndSendInput,
        PlanInput,
        RecordedStatusInput,
        RecordOutcomeInput,
        ReplanInput,
    )
    from domain.delivery_status import STAMP_COLUMNS, apply_report
    from domain.fallback import FallbackRule, fallback_verdict
    from domain.outcome import DECIDED_ENDS, SENT_STATUSES, overall_status, status_if_sent
    from domain.preferences import DigestFrequency
    from domain.types import NEVER_SENT_STATUSES, DeliveryStatus, NotificationStatus
    from workflows.activity_options import (
        BOOKKEEPING,
        DIGEST_HANDOVER,
        RECORDING_A_FAILURE,
        LocalActivityOptions,
        planning_and_first_send,
    )
    from workflows.send_failures import failure_message, was_cancelled
    from workflows.sending import ChannelSender, first_attempt_is_local
    from workflows.status_board import StatusBoard

# workflow.patched() id: a bookkeeping step that fails for good (activity_options.py) ends the
# notification `failed` with the reason, where it used to fail the workflow and leave the
# notification `accepted`. Histories from before replay as they were.
BOOKKEEPING_FAILURE_RECORDED = "bookkeeping-failure-recorded"
# workflow.patched() id: a fallback whose window ends with no news re-reads its first channel's
# recorded status before deciding, where it used to decide on what signals had told it.
# Histories from before replay as they were.
FALLBACK_READS_RECORDED_STATUS = "fallback-reads-recorded-status"
# workflow.patched() id: a new notification is planned by plan_and_send, which also makes the
# first attempt of a send the plan leaves to make now. Histories from before plan with
# plan_notification and make that attempt as a local activity of its own.
PLAN_AND_SEND = "plan-and-send"


# The input of one planning step: plan_notification (or plan_and_send),
# replan_waiting_channels or plan_fallback_channel.
_PlanStepInput = TypeVar(
    "_PlanStepInput", PlanInput, PlanAndSendInput, ReplanInput, FallbackPlanInput
)
_Planner = TypeVar("_Planner", PlanningActivities, ImmediateActivities)


@workflow.defn
class NotificationWorkflow:
    def __init__(self) -> None:
        self._channels: dict[str, ChannelState] = {}
        self._cancel_requested = False
        self._finished = False
        self._board = StatusBoard()  # what the query and the Web UI show
        self._sends: list[asyncio.Task[None]] = []
        self._preferences_changed = False
        self._in_digest = False
        # The notification status a successful send recorded.
        self._settled_as: NotificationStatus | None = None
        # plan_and_send is running: a send it makes cannot be stopped halfway.
        self._planning_and_sending = False
        # Planned by plan_and_send, so sending first attempts locally (first_attempt_is_local).
        self._plan_and_send = False

    @workflow.run
    async def run(self, input: NotificationInput) -> NotificationResult:
        try:
            if input.resend is not None:
                return await self._resend(input, input.resend)
            return await self._notify(input)
        except FailureError as err:
            # Only a bookkeeping step's failure gets here (a send's failure is its channel's
            # status): one that can never succeed, or one still failing past its retry bound.
            if was_cancelled(err) or not workflow.patched(BOOKKEEPING_FAILURE_RECORDED):
                raise
            return await self._end_failed(input, _reason(err))

    async def _notify(self, input: NotificationInput) -> NotificationResult:
        planning = PlanInput(input.notification_id, input.tenant_id, workflow.now(), input.send_at)
        self._plan_and_send = workflow.patched(PLAN_AND_SEND)
        if self._plan_and_send:
            plan = await self._planned_and_first_sent(input, planning)
        else:
            plan = await self._planned(PlanningActivities.plan_notification, planning)
        first_attempt = plan.first_attempt
        if plan.retry_window_seconds:  # the tenant's own retry window for its sends
            input = dataclasses.replace(
                input,
                retry=dataclasses.replace(input.retry, max_total_seconds=plan.retry_window_seconds),
            )
        slots = list(plan.slots)
        attempted: list[ChannelState] = []
        wake = input.send_at
        if wake is not None and wake <= workflow.now():
            wake = None  # already decided as of now, slots taken: no second look needed
        waiting_status = NotificationStatus.SCHEDULED
        while not self._cancel_requested:
            if wake is not None:
                await self._sleep_until(wake, waiting_status)
                if self._cancel_requested:
                    break
                # Time has passed, or the preferences changed: ask the policy again.
                plan = await self._planned(
                    PlanningActivities.replan_waiting_channels,
                    ReplanInput(input.notification_id, input.tenant_id, workflow.now()),
                )
                slots += plan.slots
            pending = self._channels_in(DeliveryStatus.PENDING)
            if pending:
                self._board.set(NotificationStatus.SENDING, pending, publish=False)
                attempted += pending
                settles_as = self._status_if_sent(pending, plan.fallback)
                self._sends = [
                    asyncio.create_task(
                        self._deliver(c, input, settles_as, _made_for(first_attempt, c))
                    )
                    for c in pending
                ]
                first_attempt = None
                await asyncio.gather(*self._sends)
            await self._hand_over_to_digest(input)
            deferred = self._channels_in(DeliveryStatus.DEFERRED)
            if not deferred:
                break
            # Never sooner than a second from now: a decision cannot make the workflow spin.
            wake = max(
                min(c.until or workflow.now() for c in deferred),
                workflow.now() + timedelta(seconds=1),
            )
            waiting_status = NotificationStatus.DEFERRED

        if plan.fallback is not None and not self._cancel_requested:
            attempted += await self._fall_back(input, plan.fallback)

        never_sent = self._channels_in(DeliveryStatus.PENDING) + self._channels_in(
            DeliveryStatus.DEFERRED
        )
        for channel in never_sent:  # cancelled while waiting
            channel.status = DeliveryStatus.CANCELLED
            channel.reason = "cancelled before sending"
        statuses = [c.status for c in self._channels.values()]
        status = overall_status(statuses, self._cancel_requested)
        sent = any(s in SENT_STATUSES for s in statuses)
        ended = [c for c in attempted + never_sent if c.status in DECIDED_ENDS]
        if status != self._settled_as or ended:
            await workflow.execute_local_activity_method(
                OutcomeActivities.record_outcome,
                RecordOutcomeInput(
                    input.notification_id,
                    input.tenant_id,
                    status,
                    ended,
                    release_slots=[] if sent else slots,
                ),
                **BOOKKEEPING,
            )
        self._board.set(status)
        self._finished = True
        return NotificationResult(status, list(self._channels.values()))

    async def _end_failed(self, input: NotificationInput, reason: str) -> NotificationResult:
        """A bookkeeping step failed for good: the notification ends `failed` with the reason
        (`partially_failed` if a channel was sent), and so does every channel still waiting.
        Recording it reads no stored state, so only an unavailable database can stop it, and
        it is given about an hour; past that the workflow fails, with the reason."""
        for send in self._sends:
            send.cancel()  # a send in flight finishes first (WAIT_CANCELLATION_COMPLETED)
        await asyncio.gather(*self._sends, return_exceptions=True)
        for channel in self._channels_in(DeliveryStatus.PENDING) + self._channels_in(
            DeliveryStatus.DEFERRED
        ):
            channel.status, channel.reason = DeliveryStatus.FAILED, reason
        channels = list(self._channels.values())
        status = overall_status([*(c.status for c in channels), DeliveryStatus.FAILED])
        try:
            await workflow.execute_local_activity_method(
                OutcomeActivities.record_outcome,
                RecordOutcomeInput(
                    input.notification_id,
                    input.tenant_id,
                    status,
                    [c for c in channels if c.status in DECIDED_ENDS],
                    reason=reason,
                ),
                **RECORDING_A_FAILURE,
            )
        except FailureError as err:
            raise ApplicationError(
                f"{reason}; recording it failed too: {failure_message(err)}", non_retryable=True
            ) from err
        self._board.set(status)
        self._finished = True
        return NotificationResult(status, channels)

    async def _fall_back(self, input: NotificationInput, spec: FallbackSpec) -> list[ChannelState]:
        """Wait (durably) for the first channel to reach `unless`; if it fails or the time runs
        out first, send the fallback channel. Status news arrives by the delivery_event signal,
        which is best effort (a webhook or an inbox read while Temporal is unreachable is
        recorded, not signalled): when the time runs out, the status recorded in the database
        decides, and the signal is only the fast path."""
        rule = FallbackRule(spec.from_channel, spec.to_channel, spec.unless, spec.within_minutes)
        source = self._channels.get(rule.from_channel)
        if source is None or rule.to_channel in self._channels:
            return []
        try:
            await workflow.wait_condition(
                lambda: self._cancel_requested or fallback_verdict(source.status, rule) is not None,
                timeout=timedelta(minutes=rule.within_minutes),
            )
        except TimeoutError:
            if workflow.patched(FALLBACK_READS_RECORDED_STATUS):
                await self._read_recorded_status(input, source)
        if self._cancel_requested or fallback_verdict(source.status, rule) is False:
            return []
        plan = await self._planned(
            PlanningActivities.plan_fallback_channel,
            FallbackPlanInput(
                input.notification_id, input.tenant_id, workflow.now(), spec.to_channel
            ),
        )
        added = [c for c in plan.channels if c.status == DeliveryStatus.PENDING]
        self._sends = [asyncio.create_task(self._deliver(c, input)) for c in added]
        await asyncio.gather(*self._sends)
        return added

    async def _read_recorded_status(self, input: NotificationInput, channel: ChannelState) -> None:
        """Learn the channel's recorded status, as if a signal had told it."""
        recorded = await workflow.execute_local_activity_method(
            PlanningActivities.recorded_delivery_status,
            RecordedStatusInput(channel.delivery_id, input.tenant_id),
            **BOOKKEEPING,
        )
        if recorded.status is not None:
            self._learn(DeliveryEvent(channel.delivery_id, recorded.status))

    async def _resend(self, input: NotificationInput, channel: ChannelState) -> NotificationResult:
        """An operator's resend: one new delivery (`channel`, the input's `resend`), sent now
        through the usual retries and failover."""
        self._channels = {channel.channel: channel}
        self._board.set(NotificationStatus.SENDING, [channel], publish=False)
        self._sends = [asyncio.create_task(self._deliver(channel, input))]
        await asyncio.gather(*self._sends)
        if channel.status == DeliveryStatus.PENDING:
            channel.status, channel.reason = DeliveryStatus.CANCELLED, "cancelled before sending"
        await workflow.execute_local_activity_method(
            OutcomeActivities.record_outcome,
            RecordOutcomeInput(input.notification_id, input.tenant_id, None, [channel]),
            **BOOKKEEPING,
        )
        status = overall_status([channel.status], self._cancel_requested)
        self._board.set(status)
        self._finished = True
        return NotificationResult(status, [channel])

    async def _planned(
        self,
        step: Callable[[_Planner, _PlanStepInput], Awaitable[Plan]],
        request: _PlanStepInput,
        options: LocalActivityOptions = BOOKKEEPING,
    ) -> Plan:
        """Run one planning step (a local activity); the channels it decided join this
        notification's."""
        plan = await workflow.execute_local_activity_method(step, request, **options)
        self._channels.update({c.channel: c for c in plan.channels})
        return plan

    async def _planned_and_first_sent(self, input: NotificationInput, planning: PlanInput) -> Plan:
        """Plan the notification and, when the plan leaves one channel to send now, make the
        first attempt of that send in the same local activity (activities/immediate.py): a
        notification sent at once is spared a workflow activation and a local activity's trip
        through the worker between planning and sending. A cancel waits for the step to end."""
        self._planning_and_sending = True
        try:
            return await self._planned(
                ImmediateActivities.plan_and_send,
                PlanAndSendInput(planning, input.providers),
                planning_and_first_send(input.retry.attempt_timeout_seconds),
            )
        finally:
            self._planning_and_sending = False

    def _channels_in(self, status: DeliveryStatus) -> list[ChannelState]:
        return [c for c in self._channels.values() if c.status == status]

    async def _sleep_until(self, when: datetime, status: NotificationStatus) -> None:
        delay = when - workflow.now()
        if delay <= timedelta(0):
            return
        waiting = self._channels_in(DeliveryStatus.PENDING) + self._channels_in(
            DeliveryStatus.DEFERRED
        )
        self._board.set(status, waiting)
        self._preferences_changed = False
        try:
            # A durable timer: survives worker and server restarts; a cancel or a change
            # of the recipient's preferences wakes it early.
            await workflow.wait_condition(
                lambda: self._cancel_requested or self._preferences_changed, timeout=delay
            )
        except TimeoutError:
            pass

    async def _hand_over_to_digest(self, input: NotificationInput) -> None:
        digested = self._channels_in(DeliveryStatus.DIGESTED)
        if not digested or self._in_digest:
            return
        flush_at, frequency = min((_digest_slot(c) for c in digested), key=lambda slot: slot[0])
        await workflow.execute_activity_method(
            DigestActivities.enqueue_digest,
            EnqueueDigestInput(input.notification_id, input.tenant_id, flush_at, frequency),
            **DIGEST_HANDOVER,
        )
        self._in_digest = True

    def _status_if_sent(
        self, pending: list[ChannelState], fallback: FallbackSpec | None
    ) -> NotificationStatus | None:
        """When one send is all that is left to do (every other channel settled as suppressed,
        no fallback to wait for), the notification's status should it succeed. The send records
        it together with its own result, sparing the record_outcome step its round trips."""
        others = [c.status for c in self._channels.values() if c not in pending]
        status = status_if_sent(len(pending), others, fallback is not None)
        if status is None:
            return None
        if not first_attempt_is_local(self._plan_and_send):  # before: recorded at the end
            return None
        return status

    async def _deliver(
        self,
        channel: ChannelState,
        input: NotificationInput,
        settles_as: NotificationStatus | None = None,
        first_attempt: FirstAttempt | None = None,
    ) -> None:
        sender = ChannelSender(
            input,
            lambda: self._cancel_requested,
            on_retrying=self._board.publish,
            first_attempt_local=self._plan_and_send,
        )
        if await sender.deliver(channel, settles_as, first_attempt):
            self._settled_as = settles_as

    @workflow.update
    async def cancel(self) -> CancelResult:
        if self._planning_and_sending:  # its send cannot be stopped halfway: wait for it
            await workflow.wait_condition(lambda: not self._planning_and_sending)
        if self._finished:
            return CancelResult(False, self._board.status, list(self._channels.values()))
        self._cancel_requested = True
        for send in self._sends:
            send.cancel()
        await workflow.wait_condition(lambda: self._finished)
        cancelled = any(c.status == DeliveryStatus.CANCELLED for c in self._channels.values())
        return CancelResult(cancelled, self._board.status, list(self._channels.values()))

    @workflow.signal
    def delivery_event(self, event: DeliveryEvent) -> None:
        """A provider's later news about a channel (delivered, bounced, opened...)."""
        self._learn(event)

    def _learn(self, event: DeliveryEvent) -> None:
        """A channel's news, from a signal or from the database: its status moves forward."""
        if event.status not in STAMP_COLUMNS:  # not something a provider reports: ignore it
            return
        for channel in self._channels.values():
            if (
                channel.delivery_id == event.delivery_id
                and channel.status not in NEVER_SENT_STATUSES
            ):
                channel.status = apply_report(channel.status, event.status).status  # only forward

    @workflow.signal
    def preferences_changed(self) -> None:
        """The recipient's preferences changed: a waiting notification decides again now."""
        self._preferences_changed = True

    @workflow.query
    def status(self) -> NotificationResult:
        return NotificationResult(self._board.status, list(self._channels.values()))


def _made_for(first_attempt: FirstAttempt | None, channel: ChannelState) -> FirstAttempt | None:
    """The first attempt plan_and_send made, if it was this channel's."""
    if first_attempt is not None and first_attempt.delivery_id == channel.delivery_id:
        return first_attempt
    return None


def _reason(err: FailureError) -> str:
    """What an operator reads (notifications.status_reason): the step, what went wrong (the
    activity's message names both), and whether retrying was tried."""
    cause = err.__cause__ if isinstance(err, ActivityError) else err
    never_retried = isinstance(cause, ApplicationError) and (
        cause.non_retryable or cause.type in NON_RETRYABLE
    )
    how = "not retried: it cannot succeed" if never_retried else "gave up after its retries"
    return f"{failure_message(err)} ({how})"


def _digest_slot(channel: ChannelState) -> tuple[datetime, DigestFrequency]:
    """When a digested channel's digest goes out, and at which frequency (planning sets both)."""
    if channel.until is None or channel.digest_frequency is None:
        raise ValueError(f"digested channel {channel.channel} has no flush time or frequency")
    return channel.until, channel.digest_frequency
