"""BroadcastWorkflow: one per broadcast. It walks the audience in pages and sends each page in
bulk (domain/broadcasts.py tells the whole flow); the activities hold the rows, this workflow
only decides what runs when.

1. Wait for send_at (a durable timer), then record the broadcast RUNNING.
2. The walk: plan_broadcast_page after the cursor, then send the page's pending channels
   (after, through] while the next page is planned: at most two pages in flight. Every
   PAGES_PER_RUN pages the run continues as new, carrying the cursor and its counters.
3. Settling: deferred deliveries are released at their time (one timer for the earliest, not a
   workflow each), and channels with transient failures are swept again with backoff until the
   retry window ends; the last sweep makes what still fails final. Then COMPLETED.

`pause`, `resume` and `cancel` are updates. A pause takes effect between pages and sends: a
page or send batch running finishes (each is a transaction of its own), none starts.
A cancel stops the work in flight the same way, then records CANCELLED (the activity cancels
what was not sent) and the run ends.
"""

import asyncio
import dataclasses
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.broadcasts import BroadcastActivities
    from domain.bookkeeping import NON_RETRYABLE
    from domain.broadcast_retries import RetrySweeps
    from domain.broadcasts import (
        FINISHED_BROADCAST_STATUSES,
        PAGES_PER_RUN,
        BroadcastInput,
        BroadcastProgress,
        BroadcastStatus,
        BroadcastStatusInput,
        PageInput,
        PageResult,
        ReleaseInput,
        SendBatchInput,
        SendBatchResult,
        broadcast_progress,
    )
    from workflows.activity_options import ActivityOptions
    from workflows.send_failures import failure_message

# The ApplicationError type of a refused pause, resume or cancel; its message says why
# ("broadcast is completed", "broadcast is not paused"), for the API to pass on.
UPDATE_REFUSED = "BroadcastUpdateRefused"

# Retrying a step that writes (the status, a page, a release; each one transaction, and a page
# written twice writes nothing twice) or a send batch (its claims keep a second attempt from
# sending twice): 1 s doubling to 1 min, 20 attempts, about 14 min of waiting, so a database
# restart or failover is ridden out. What cannot succeed is not retried. Past that the
# broadcast ends FAILED with the reason.
_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=20,
    non_retryable_error_types=NON_RETRYABLE,
)


class _StepOptions(ActivityOptions):
    cancellation_type: ActivityCancellationType


# A cancel waits for a step in flight to finish: nothing is written after CANCELLED.
STEP = _StepOptions(
    start_to_close_timeout=timedelta(minutes=2),
    retry_policy=_RETRY,
    cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
)
# A send batch heartbeats as its sends finish: a worker that died is noticed within a send
# attempt's time plus this, and the batch retried on another.
HEARTBEAT_SLACK = timedelta(seconds=30)
# A backstop only (the heartbeat notices a dead worker): a retry sweep may hold many sends.
SEND_BATCH_TIMEOUT = timedelta(hours=1)


class _Cancelled(Exception):
    """The cancel update arrived: the work stops at its next step."""


@workflow.defn
class BroadcastWorkflow:
    @workflow.init
    def __init__(self, input: BroadcastInput) -> None:
        self._input = input
        self._counters = dataclasses.replace(input.counters)
        self._started_at = input.started_at
        self._cursor = input.cursor
        self._walked = input.walked
        self._paused = input.paused
        self._deferred_until = input.deferred_until
        self._sweeps = RetrySweeps(
            input.retry, input.retry_window_ends, set(input.retrying), input.retry_round
        )
        self._status = (
            BroadcastStatus.PAUSED
            if input.paused
            else BroadcastStatus.RUNNING
            if input.started_at is not None
            else BroadcastStatus.SCHEDULED
        )
        self._cancel_requested = False
        # Status writes (the run's and the updates') one at a time, in the order decided.
        self._status_lock = asyncio.Lock()

    @workflow.run
    async def run(self, input: BroadcastInput) -> BroadcastProgress:
        work = asyncio.create_task(self._broadcast())
        await workflow.wait_condition(lambda: work.done() or self._cancel_requested)
        if not work.done():
            work.cancel()  # what runs finishes (WAIT_CANCELLATION_COMPLETED); nothing starts
        try:
            settled = await work
        except (asyncio.CancelledError, _Cancelled):
            if not self._cancel_requested:
                raise
            settled = True
        except ActivityError as err:
            if not self._cancel_requested:
                await self._finish(BroadcastStatus.FAILED)
                raise ApplicationError(
                    f"the broadcast failed: {failure_message(err)}",
                    type="BroadcastFailed",
                    non_retryable=True,
                ) from err
            settled = True
        if not settled:
            await workflow.wait_condition(
                lambda: workflow.all_handlers_finished() or self._cancel_requested
            )
            if not self._cancel_requested:
                workflow.continue_as_new(self._carried())
        await self._finish(
            BroadcastStatus.CANCELLED if self._cancel_requested else BroadcastStatus.COMPLETED
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    # --- pause, resume, cancel, progress ----------------------------------------------------

    @workflow.update
    async def pause(self) -> BroadcastProgress:
        async with self._status_lock:
            self._refuse_if_ending()
            if not self._paused:
                self._paused = True  # no page or send starts from now on
                await self._record(BroadcastStatus.PAUSED)
                self._status = BroadcastStatus.PAUSED
        return self.progress()

    @pause.validator
    def _may_pause(self) -> None:
        self._refuse_if_ending()
        if self._paused:
            raise _refused("broadcast is already paused")

    @workflow.update
    async def resume(self) -> BroadcastProgress:
        async with self._status_lock:
            self._refuse_if_ending()
            if self._paused:
                started = self._started_at is not None
                status = BroadcastStatus.RUNNING if started else BroadcastStatus.SCHEDULED
                await self._record(status)
                self._status, self._paused = status, False
        return self.progress()

    @resume.validator
    def _may_resume(self) -> None:
        self._refuse_if_ending()
        if not self._paused:
            raise _refused("broadcast is not paused")

    @workflow.update
    async def cancel(self) -> BroadcastProgress:
        self._refuse_if_finished()
        self._cancel_requested = True
        await workflow.wait_condition(lambda: self._status in FINISHED_BROADCAST_STATUSES)
        if self._status != BroadcastStatus.CANCELLED:  # it ended otherwise meanwhile
            raise _refused(f"broadcast is {self._status}")
        return self.progress()

    @cancel.validator
    def _may_cancel(self) -> None:
        self._refuse_if_finished()

    @workflow.query
    def progress(self) -> BroadcastProgress:
        return broadcast_progress(self._status, self._counters, self._started_at, workflow.now())

    def _refuse_if_finished(self) -> None:
        if self._status in FINISHED_BROADCAST_STATUSES:
            raise _refused(f"broadcast is {self._status}")

    def _refuse_if_ending(self) -> None:
        self._refuse_if_finished()
        if self._cancel_requested:
            raise _refused("broadcast is being cancelled")

    # --- the work -----------------------------------------------------------------------------

    async def _broadcast(self) -> bool:
        """True once everything is settled; False when this run has done its share and the
        broadcast continues as new."""
        if self._started_at is None:
            await self._start_running()
        if not self._walked and not await self._walk():
            return False
        return await self._settle()

    async def _start_running(self) -> None:
        send_at = self._input.send_at
        if send_at is not None and send_at > workflow.now():
            await workflow.sleep(send_at - workflow.now())
        while True:
            await self._proceed()  # paused while scheduled: wait for resume
            async with self._status_lock:
                if self._paused:  # paused meanwhile
                    continue
                await self._record(BroadcastStatus.RUNNING)  # fills started_at and total
                self._status = BroadcastStatus.RUNNING
                self._started_at = workflow.now()
                self._sweeps.open_window(self._started_at)
                return

    async def _walk(self) -> bool:
        """Write and send pages until the audience ends (True) or this run has walked its
        share (False). A page's sends run while the next page is written, and the page after
        waits for them: at most two pages in flight."""
        sending: asyncio.Task[None] | None = None
        pages = 0
        try:
            while pages < PAGES_PER_RUN and not workflow.info().is_continue_as_new_suggested():
                await self._proceed()
                after = self._cursor
                page = await workflow.execute_activity_method(
                    BroadcastActivities.plan_broadcast_page,
                    PageInput(
                        self._input.broadcast_id,
                        self._input.tenant_id,
                        after=after,
                        limit=self._input.page_size,
                    ),
                    **STEP,
                )
                pages += 1
                self._count_page(page)
                if page.last_recipient_id is None:
                    self._walked = True
                    break
                self._cursor = page.last_recipient_id
                if sending is not None:
                    await sending
                sending = asyncio.create_task(self._send_page(page, after))
            if sending is not None:
                await sending
        except BaseException:
            if sending is not None and not sending.done():
                sending.cancel()
                await asyncio.wait([sending])  # its batch in flight finishes first
            raise
        return self._walked

    def _count_page(self, page: PageResult) -> None:
        counters = self._counters
        counters.planned += page.written
        counters.suppressed += page.suppressed
        counters.deferred += page.deferred
        counters.sent += page.sent  # in-app messages, delivered as the page is written
        counters.failed += page.failed
        if page.total is not None:
            counters.total = page.total
        self._deferred_until = _earliest(self._deferred_until, page.deferred_until)

    async def _send_page(self, page: PageResult, after: uuid.UUID | None) -> None:
        channels = sorted(channel for channel, count in page.pending.items() if count > 0)
        results = await asyncio.gather(
            *(self._send(channel, after, page.last_recipient_id) for channel in channels)
        )
        for channel, result in zip(channels, results, strict=True):
            self._sweeps.page_sent(channel, result)  # swept once the walk is over

    async def _settle(self) -> bool:
        """Release deferred deliveries at their time and sweep transient failures
        (domain/broadcast_retries.py), until none is left (True), or the history is long
        (False: continue as new)."""
        while True:
            sweep_at = self._sweeps.next_due(workflow.now())
            if self._deferred_until is None and sweep_at is None:
                return True
            if workflow.info().is_continue_as_new_suggested():
                return False
            due = min(t for t in (self._deferred_until, sweep_at) if t is not None)
            if due > workflow.now():
                await workflow.sleep(due - workflow.now())
            await self._proceed()
            if self._deferred_until is not None and self._deferred_until <= workflow.now():
                await self._release()
            elif sweep_at is not None:
                await self._sweep()

    async def _release(self) -> None:
        now = workflow.now()
        released = await workflow.execute_activity_method(
            BroadcastActivities.release_broadcast_deferred,
            ReleaseInput(self._input.broadcast_id, self._input.tenant_id, now),
            **STEP,
        )
        self._counters.deferred -= released.released
        self._counters.suppressed += released.suppressed
        self._counters.sent += released.sent
        self._counters.failed += released.failed
        self._deferred_until = released.next_deferred_until
        channels = sorted(channel for channel, count in released.pending.items() if count > 0)
        if channels:
            self._sweeps.open_window(now)
        await self._send_all(channels, final=False)

    async def _sweep(self) -> None:
        """Send every retrying channel's pending deliveries again; the last sweep passes
        retry_window_ends, so what fails then fails for good."""
        final = self._sweeps.is_last(workflow.now())
        channels = sorted(self._sweeps.channels)
        self._sweeps.swept()
        await self._send_all(channels, final)

    async def _send_all(self, channels: list[str], final: bool) -> None:
        """Send every pending delivery of these channels, whatever page it is in."""
        window_ends = workflow.now() if final else None
        results = await asyncio.gather(
            *(self._send(channel, None, None, window_ends) for channel in channels)
        )
        for channel, result in zip(channels, results, strict=True):
            self._sweeps.all_sent(channel, result, final)

    async def _send(
        self,
        channel: str,
        after: uuid.UUID | None,
        through: uuid.UUID | None,
        retry_window_ends: datetime | None = None,
    ) -> SendBatchResult:
        await self._proceed()
        result = await workflow.execute_activity_method(
            BroadcastActivities.send_broadcast_batch,
            SendBatchInput(
                self._input.broadcast_id,
                self._input.tenant_id,
                channel,
                after,
                through,
                self._input.providers.get(channel, []),
                retry_window_ends,
            ),
            start_to_close_timeout=SEND_BATCH_TIMEOUT,
            heartbeat_timeout=timedelta(seconds=self._input.retry.attempt_timeout_seconds)
            + HEARTBEAT_SLACK,
            retry_policy=_RETRY,
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        self._counters.sent += result.sent
        self._counters.failed += result.failed
        return result

    async def _proceed(self) -> None:
        """Between pages and sends: wait while paused; stop once cancelled."""
        await workflow.wait_condition(lambda: not self._paused or self._cancel_requested)
        if self._cancel_requested:
            raise _Cancelled()

    # --- status -------------------------------------------------------------------------------

    async def _record(self, status: BroadcastStatus) -> None:
        await workflow.execute_activity_method(
            BroadcastActivities.set_broadcast_status,
            BroadcastStatusInput(self._input.broadcast_id, self._input.tenant_id, status),
            **STEP,
        )

    async def _finish(self, status: BroadcastStatus) -> None:
        async with self._status_lock:  # after a pause or resume being recorded
            await self._record(status)
            self._status = status

    def _carried(self) -> BroadcastInput:
        """What the next run needs: where the walk is and what is left to settle."""
        return dataclasses.replace(
            self._input,
            cursor=self._cursor,
            walked=self._walked,
            paused=self._paused,
            retry_round=self._sweeps.round,
            started_at=self._started_at,
            counters=self._counters,
            deferred_until=self._deferred_until,
            retrying=sorted(self._sweeps.channels),
            retry_window_ends=self._sweeps.window_ends,
        )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a is not None and b is not None else a or b


def _refused(message: str) -> ApplicationError:
    return ApplicationError(message, type=UPDATE_REFUSED, non_retryable=True)
