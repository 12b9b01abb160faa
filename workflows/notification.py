"""NotificationWorkflow: one durable workflow per notification, from plan to final status."""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from domain.contracts import (
        CancelResult,
        ChannelState,
        DeliverInput,
        DeliverResult,
        NotificationInput,
        NotificationResult,
        PrepareInput,
        PrepareResult,
        RecordOutcomeInput,
    )
    from domain.outcome import overall_status
    from domain.types import DeliveryStatus, NotificationStatus
    from workflows import search_attributes as sa

# Database bookkeeping runs as local activities: they are short, idempotent, and
# skipping a server round trip per call roughly halves a notification's latency.
# If the worker dies mid-call, the workflow task is retried and so is the call.
BOOKKEEPING = dict(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)),
)
PERMANENT_ERROR_TYPES = ["PermanentSendError", "MissingPlaceholders", "DeliveryNotFound"]


@workflow.defn
class NotificationWorkflow:
    def __init__(self) -> None:
        self._channels: dict[str, ChannelState] = {}
        self._cancel_requested = False
        self._finished = False
        self._status = NotificationStatus.ACCEPTED
        self._sends: list[asyncio.Task] = []

    @workflow.run
    async def run(self, input: NotificationInput) -> NotificationResult:
        plan: PrepareResult = await workflow.execute_local_activity(
            "prepare_notification",
            PrepareInput(input.notification_id, input.tenant_id),
            result_type=PrepareResult,
            **BOOKKEEPING,
        )
        self._channels = {c.channel: c for c in plan.channels}
        pending = [c for c in plan.channels if c.status == DeliveryStatus.PENDING]
        # Each upsert is a visibility write on the server: batch them, one per status change.
        channels = SearchAttributePair(sa.CHANNELS, [c.channel for c in pending])

        if pending and input.send_at:
            await self._wait_until(datetime.fromisoformat(input.send_at), channels)
        if pending and not self._cancel_requested:
            self._set_status(NotificationStatus.SENDING, channels)
            self._sends = [asyncio.create_task(self._deliver(c, input)) for c in pending]
            await asyncio.gather(*self._sends)
        for channel in pending:
            if channel.status == DeliveryStatus.PENDING:  # never attempted: cancelled first
                channel.status = DeliveryStatus.CANCELLED
                channel.reason = "cancelled before sending"

        status = overall_status([c.status for c in self._channels.values()], self._cancel_requested)
        await workflow.execute_local_activity(
            "record_outcome",
            RecordOutcomeInput(input.notification_id, input.tenant_id, status, pending),
            **BOOKKEEPING,
        )
        self._set_status(status)
        self._finished = True
        return NotificationResult(status, list(self._channels.values()))

    async def _wait_until(self, send_at: datetime, channels: SearchAttributePair) -> None:
        delay = send_at - workflow.now()
        if delay <= timedelta(0):
            return
        self._set_status(NotificationStatus.SCHEDULED, channels)
        try:
            # A durable timer: survives worker and server restarts; a cancel wakes it early.
            await workflow.wait_condition(lambda: self._cancel_requested, timeout=delay)
        except asyncio.TimeoutError:
            pass

    async def _deliver(self, channel: ChannelState, input: NotificationInput) -> None:
        retry = input.retry
        try:
            result: DeliverResult = await workflow.execute_activity(
                "deliver",
                DeliverInput(channel.delivery_id, input.tenant_id),
                result_type=DeliverResult,
                # A regular activity: its retries and backoff are kept by the server,
                # so they continue on another worker if this one crashes.
                start_to_close_timeout=timedelta(seconds=retry.attempt_timeout_seconds),
                schedule_to_close_timeout=timedelta(seconds=retry.max_total_seconds),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=retry.initial_seconds),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=retry.max_interval_seconds),
                    maximum_attempts=retry.max_attempts,
                    non_retryable_error_types=PERMANENT_ERROR_TYPES,
                ),
                # A send in flight finishes (and is recorded) before a cancel takes effect.
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            channel.status = result.status
        except (ActivityError, asyncio.CancelledError) as err:
            if self._cancel_requested and _was_cancelled(err):
                channel.status = DeliveryStatus.CANCELLED
                channel.reason = "cancelled before sending"
            else:
                channel.status = DeliveryStatus.FAILED
                channel.error = _failure_message(err)

    @workflow.update
    async def cancel(self) -> CancelResult:
        if self._finished:
            return CancelResult(False, self._status, list(self._channels.values()))
        self._cancel_requested = True
        for send in self._sends:
            send.cancel()
        await workflow.wait_condition(lambda: self._finished)
        cancelled = any(c.status == DeliveryStatus.CANCELLED for c in self._channels.values())
        return CancelResult(cancelled, self._status, list(self._channels.values()))

    @workflow.query
    def status(self) -> NotificationResult:
        return NotificationResult(self._status, list(self._channels.values()))

    def _set_status(self, status: str, *extra: SearchAttributePair) -> None:
        self._status = status
        workflow.upsert_search_attributes([SearchAttributePair(sa.STATUS, status), *extra])


def _was_cancelled(err: BaseException) -> bool:
    return isinstance(err, asyncio.CancelledError) or isinstance(err.cause, CancelledError)


def _failure_message(err: BaseException) -> str:
    """The activity's own explanation: the first ApplicationError under the ActivityError."""
    cause = err.__cause__
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    return cause.message if cause is not None else str(err)
