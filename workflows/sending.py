"""How the notification workflow sends one channel: through each provider in turn, a first
attempt inside the workflow task, then retries the server keeps. Workflow code (deterministic)."""

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.delivery import DeliveryActivities
    from activities.outcomes import OutcomeActivities
    from domain.contracts import (
        ChannelState,
        DeliverInput,
        DeliverResult,
        FailoverInput,
        FirstAttempt,
        NotificationInput,
    )
    from domain.types import DeliveryStatus, NotificationStatus
    from workflows.activity_options import BOOKKEEPING
    from workflows.send_failures import (
        FAILOVER_ERROR_TYPES,
        PERMANENT_ERROR_TYPES,
        SEND_FAILURES,
        failure_message,
        failure_type,
        reported_failure,
        retry_delay,
        was_cancelled,
    )

BACKOFF = 2.0
# workflow.patched() id: histories recorded before a send's first attempt became local (and
# could record the notification's status) replay as they were.
FIRST_ATTEMPT_LOCAL = "first-attempt-local"


def first_attempt_is_local(known: bool = False) -> bool:
    """Whether this workflow makes a send's first attempt locally: `known` when a later patch
    implies it (a workflow planned by plan_and_send), else as FIRST_ATTEMPT_LOCAL says. Asking
    no more than needed spares the workflow a patch marker and its search-attribute upsert."""
    return known or workflow.patched(FIRST_ATTEMPT_LOCAL)


class ChannelSender:
    def __init__(
        self,
        input: NotificationInput,
        cancel_requested: Callable[[], bool],
        on_retrying: Callable[[], None],
        first_attempt_local: bool = False,
    ):
        self._input = input
        self._cancel_requested = cancel_requested
        self._on_retrying = on_retrying  # a send goes on to retries: they take a while
        self._first_attempt_local = first_attempt_local  # known already (first_attempt_is_local)

    async def deliver(
        self,
        channel: ChannelState,
        settles_as: NotificationStatus | None = None,
        first_attempt: FirstAttempt | None = None,
    ) -> bool:
        """Send through each provider of the channel in turn, until one succeeds or the
        failure is the recipient's (which another provider would not change). Sets the
        channel's status; True when a provider accepted it. `first_attempt`: the first
        provider's first attempt, made already (by plan_and_send)."""
        # No failover order given: one try with None, the channel's first provider.
        providers: Sequence[str | None] = self._input.providers.get(channel.channel) or [None]
        for position, provider in enumerate(providers):
            can_fail_over = position + 1 < len(providers)
            try:
                result = await self._send_with(
                    provider,
                    channel,
                    settles_as,
                    can_fail_over,
                    first_attempt if position == 0 else None,
                )
                if result.unrecorded is not None:
                    # Sent, but the database was away when the send was to be recorded: record
                    # it now, as bookkeeping is retried; never send it again.
                    await workflow.execute_local_activity_method(
                        DeliveryActivities.record_sent, result.unrecorded, **BOOKKEEPING
                    )
                channel.status = result.status
                return True
            except SEND_FAILURES as err:
                if self._cancel_requested() and was_cancelled(err):
                    channel.status = DeliveryStatus.CANCELLED
                    channel.reason = "cancelled before sending"
                    return False
                channel.error = failure_message(err)
                following = providers[position + 1] if position + 1 < len(providers) else None
                if following is None or failure_type(err) not in FAILOVER_ERROR_TYPES:
                    channel.status = DeliveryStatus.FAILED
                    # The failure's type lets the retry job tell transient from permanent.
                    channel.reason = failure_type(err)
                    return False
                await workflow.execute_local_activity_method(
                    OutcomeActivities.record_failover,
                    FailoverInput(channel.delivery_id, provider, following, channel.error),
                    **BOOKKEEPING,
                )
        return False

    async def _send_with(
        self,
        provider: str | None,
        channel: ChannelState,
        settles_as: NotificationStatus | None,
        can_fail_over: bool = False,
        first_attempt: FirstAttempt | None = None,
    ) -> DeliverResult:
        """The first attempt runs as a local activity, inside the workflow task that decided
        to send (or was made by plan_and_send, in the step that planned the send): most sends
        succeed at once, and so cost no server round trip. A transient
        failure hands the send over to a regular activity, whose retries and backoff the
        server keeps, so they continue on another worker if this one crashes. (If the worker
        dies during the first attempt, the workflow task is retried, and so is the attempt;
        `deliver` never sends a delivery that is already recorded as sent.)"""
        retry, started = self._input.retry, workflow.now()
        if not first_attempt_is_local(self._first_attempt_local):  # before: every attempt remote
            return await self._retry_remotely(
                provider, channel, None, earlier_attempts=0, started=started
            )
        deliver = DeliverInput(
            channel.delivery_id,
            self._input.tenant_id,
            provider,
            settles_as=settles_as,
            can_fail_over=can_fail_over,
        )
        try:
            if first_attempt is not None:  # made already, by the step that planned the send
                if first_attempt.failure is not None:
                    raise reported_failure(first_attempt.failure)
                if first_attempt.result is not None:
                    return first_attempt.result
            return await workflow.execute_local_activity_method(
                DeliveryActivities.deliver,
                deliver,
                start_to_close_timeout=timedelta(seconds=retry.attempt_timeout_seconds),
                retry_policy=RetryPolicy(maximum_attempts=1),
                # A send in flight finishes (and is recorded) before a cancel takes effect.
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except FailureError as err:
            if (
                retry.max_attempts == 1
                or failure_type(err) in PERMANENT_ERROR_TYPES
                or was_cancelled(err)
            ):
                raise
            first_failure = err
        self._on_retrying()
        await workflow.sleep(retry_delay(first_failure) or timedelta(seconds=retry.initial_seconds))
        if workflow.now() - started >= timedelta(seconds=retry.max_total_seconds):
            raise first_failure
        return await self._retry_remotely(
            provider, channel, settles_as, earlier_attempts=1, started=started, deliver=deliver
        )

    async def _retry_remotely(
        self,
        provider: str | None,
        channel: ChannelState,
        settles_as: NotificationStatus | None,
        earlier_attempts: int,
        started: datetime,
        deliver: DeliverInput | None = None,
    ) -> DeliverResult:
        """Attempts the server keeps: with backoff (or the provider's Retry-After, or the end of
        an open circuit's cool-down), until they succeed, fail for good, or the retry window
        (max_total_seconds, an hour by default) closes; DELIVERY_MAX_ATTEMPTS, when set, also
        bounds their number."""
        retry = self._input.retry
        deliver = dataclasses.replace(
            deliver
            or DeliverInput(
                channel.delivery_id, self._input.tenant_id, provider, settles_as=settles_as
            ),
            earlier_attempts=earlier_attempts,
        )
        return await workflow.execute_activity_method(
            DeliveryActivities.deliver,
            deliver,
            start_to_close_timeout=timedelta(seconds=retry.attempt_timeout_seconds),
            schedule_to_close_timeout=timedelta(seconds=retry.max_total_seconds)
            - (workflow.now() - started),
            retry_policy=RetryPolicy(
                # The backoff series goes on from where the earlier attempts left it.
                initial_interval=timedelta(
                    seconds=retry.initial_seconds * BACKOFF**earlier_attempts
                ),
                backoff_coefficient=BACKOFF,
                maximum_interval=timedelta(seconds=retry.max_interval_seconds),
                # 0: unbounded but for the window (schedule_to_close_timeout above).
                maximum_attempts=max(retry.max_attempts - earlier_attempts, 1)
                if retry.max_attempts
                else 0,
                non_retryable_error_types=PERMANENT_ERROR_TYPES,
            ),
            # A send in flight finishes (and is recorded) before a cancel takes effect.
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
