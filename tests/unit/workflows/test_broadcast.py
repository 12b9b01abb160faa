"""BroadcastWorkflow: the paged walk, continue-as-new, pause/resume/cancel, send_at, deferred
wake-ups, retry sweeps and the progress query, against the fake of broadcast_fakes.py."""

import asyncio
import itertools
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError

from domain.broadcasts import PAGES_PER_RUN, BroadcastStatus
from domain.contracts import DeliveryRetry
from tests.unit.workflows.broadcast_fakes import ALWAYS, broadcast
from tests.unit.workflows.fakes import cannot_succeed, utc_now
from tests.unit.workflows.harness import eventually, reached
from workflows.broadcast import BroadcastWorkflow

RUNNING, PAUSED = BroadcastStatus.RUNNING, BroadcastStatus.PAUSED
COMPLETED, CANCELLED = BroadcastStatus.COMPLETED, BroadcastStatus.CANCELLED


async def refusal(update) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update
    return str(refused.value.cause)


async def events_of(handle, event_type) -> list:
    return [e async for e in handle.fetch_history_events() if e.event_type == event_type]


async def started_with_its_first_page_held(
    harness, audience: int
) -> tuple[WorkflowHandle, list[uuid.UUID], asyncio.Event]:
    """A broadcast in pages of 2 whose first page is being written, until the event is set."""
    recipients = harness.broadcasts.with_audience(audience)
    release_page = harness.broadcasts.hold_pages()
    handle = await harness.start(BroadcastWorkflow.run, broadcast(page_size=2))
    await asyncio.wait_for(harness.broadcasts.page_started.wait(), 10)
    return handle, recipients, release_page


async def test_the_walk_writes_every_page_and_sends_each_pages_channels_in_its_bounds(harness):
    fake = harness.broadcasts
    fake.channels = ("email", "in_app", "sms")  # in-app: delivered as the page is written
    r = fake.with_audience(7)
    input = broadcast(page_size=3, channels=fake.channels)

    progress = await harness.execute(BroadcastWorkflow.run, input)

    assert [page.after for page in fake.page_inputs()] == [None, r[2], r[5], r[6]]
    assert {page.limit for page in fake.page_inputs()} == {3}
    assert Counter(
        (b.channel, b.after, b.through, tuple(b.providers)) for b in fake.batch_inputs()
    ) == Counter(
        (channel, after, through, (f"{channel}-a", f"{channel}-b"))
        for after, through in ((None, r[2]), (r[2], r[5]), (r[5], r[6]))
        for channel in ("email", "sms")
    )
    assert sorted(fake.sent) == fake.every_delivery()  # each once, none missed
    assert fake.statuses == [RUNNING, COMPLETED]
    assert (progress.status, progress.total, progress.planned, progress.sent) == (
        COMPLETED,
        7,
        7,
        21,
    )


async def test_the_next_page_is_written_while_the_previous_pages_sends_run_and_no_further(
    harness,
):
    fake = harness.broadcasts
    r = fake.with_audience(9)
    release = fake.hold_sends()

    handle = await harness.start(BroadcastWorkflow.run, broadcast(page_size=3))
    await eventually(lambda: asyncio.sleep(0, len(fake.pages)), lambda n: n == 2)
    await asyncio.sleep(0.3)  # time for a third page, were it allowed

    assert [page.after for page in fake.page_inputs()] == [None, r[2]]  # two pages in flight
    assert [(b.after, b.through) for b in fake.batch_inputs()] == [(None, r[2])]
    release.set()
    await handle.result()
    assert sorted(fake.sent) == fake.every_delivery()


async def test_continue_as_new_keeps_the_cursor_and_no_page_is_written_twice(harness):
    fake = harness.broadcasts
    r = fake.with_audience(2 * PAGES_PER_RUN + 3)
    fake.transient[r[0]] = 1  # a failure to sweep after the walk, carried into the next run

    handle = await harness.start(BroadcastWorkflow.run, broadcast(page_size=2))
    progress = await handle.result()

    afters = [page.after for page in fake.page_inputs()]
    assert afters == [None, *r[1::2], r[-1]]  # each page once, each after the one before
    first_run = harness.env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    history = [e async for e in first_run.fetch_history_events()]
    assert history[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    planned_first = [
        e for e in history if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert (
        sum(
            e.activity_task_scheduled_event_attributes.activity_type.name == "plan_broadcast_page"
            for e in planned_first
        )
        == PAGES_PER_RUN
    )
    assert fake.statuses == [RUNNING, COMPLETED]  # RUNNING recorded once, not per run
    assert sorted(fake.sent) == fake.every_delivery()
    assert fake.batch_inputs()[-1].through is None  # the sweep, after the walk
    assert (progress.total, progress.planned, progress.sent) == (len(r), len(r), len(r))


async def test_pause_stops_new_pages_and_sends_and_resume_continues(harness):
    fake = harness.broadcasts
    handle, r, release_page = await started_with_its_first_page_held(harness, 5)

    assert "broadcast is not paused" in await refusal(
        handle.execute_update(BroadcastWorkflow.resume)
    )
    paused = await handle.execute_update(BroadcastWorkflow.pause)
    assert paused.status == PAUSED and fake.statuses == [RUNNING, PAUSED]
    assert "already paused" in await refusal(handle.execute_update(BroadcastWorkflow.pause))
    release_page.set()  # the page being written when the pause came is finished
    await asyncio.sleep(0.3)  # time for its sends or another page, were they allowed
    assert len(fake.pages) == 1 and fake.batches == []
    assert (await handle.query(BroadcastWorkflow.progress)).planned == 2

    resumed = await handle.execute_update(BroadcastWorkflow.resume)

    assert resumed.status == RUNNING
    assert (await handle.result()).status == COMPLETED
    assert [page.after for page in fake.page_inputs()] == [None, r[1], r[3], r[4]]
    assert sorted(fake.sent) == fake.every_delivery()
    assert fake.statuses == [RUNNING, PAUSED, RUNNING, COMPLETED]


async def test_cancel_records_cancelled_and_ends_without_sending_what_is_left(harness):
    fake = harness.broadcasts
    handle, _, release_page = await started_with_its_first_page_held(harness, 6)

    cancelling = asyncio.create_task(handle.execute_update(BroadcastWorkflow.cancel))
    await asyncio.sleep(0.2)
    assert not cancelling.done()  # the page being written is finished first
    being_cancelled = await refusal(handle.execute_update(BroadcastWorkflow.pause))
    assert "broadcast is being cancelled" in being_cancelled
    release_page.set()
    cancelled = await cancelling

    assert cancelled.status == CANCELLED and cancelled.planned == 2
    assert (await handle.result()).status == CANCELLED
    assert fake.statuses == [RUNNING, CANCELLED]
    assert len(fake.pages) == 1 and fake.batches == [] and fake.sent == []


async def test_a_pause_arriving_as_the_broadcast_completes_is_refused(harness):
    fake = harness.broadcasts
    fake.with_audience(2)
    release_status = fake.hold_status(COMPLETED)
    handle = await harness.start(BroadcastWorkflow.run, broadcast())
    await eventually(lambda: asyncio.sleep(0, fake.statuses), lambda s: s[-1:] == [COMPLETED])

    pausing = asyncio.create_task(handle.execute_update(BroadcastWorkflow.pause))
    await asyncio.sleep(0.2)  # validated (still running); waits for COMPLETED to be recorded
    release_status.set()

    assert "broadcast is completed" in await refusal(pausing)
    assert (await handle.result()).status == COMPLETED
    assert fake.statuses == [RUNNING, COMPLETED]


async def test_a_paused_broadcast_can_be_cancelled(harness):
    fake = harness.broadcasts
    handle, _, release_page = await started_with_its_first_page_held(harness, 4)
    await handle.execute_update(BroadcastWorkflow.pause)
    release_page.set()

    cancelled = await handle.execute_update(BroadcastWorkflow.cancel)

    assert cancelled.status == CANCELLED
    assert fake.statuses == [RUNNING, PAUSED, CANCELLED] and fake.batches == []


async def test_send_at_waits_on_a_durable_timer_then_runs(harness, workflow_env):
    fake = harness.broadcasts
    fake.with_audience(3)
    send_at = utc_now() + timedelta(days=2)
    handle = await harness.start(BroadcastWorkflow.run, broadcast(send_at=send_at), skip_time=False)
    await eventually(lambda: reached(handle, EventType.EVENT_TYPE_TIMER_STARTED), bool)

    assert fake.statuses == [] and fake.pages == []
    scheduled = await handle.query(BroadcastWorkflow.progress)
    assert scheduled.status == BroadcastStatus.SCHEDULED
    await workflow_env.fast_forward(handle, timedelta(days=2, minutes=1))

    assert (await handle.result()).status == COMPLETED
    assert fake.statuses == [RUNNING, COMPLETED]
    assert fake.pages[0].at >= send_at
    assert sorted(fake.sent) == fake.every_delivery()


async def test_a_scheduled_broadcast_paused_resumes_scheduled_and_cancels_before_its_time(
    harness,
):
    fake = harness.broadcasts
    fake.with_audience(3)
    handle = await harness.start(
        BroadcastWorkflow.run, broadcast(send_at=utc_now() + timedelta(days=1)), skip_time=False
    )
    await eventually(lambda: reached(handle, EventType.EVENT_TYPE_TIMER_STARTED), bool)

    assert (await handle.execute_update(BroadcastWorkflow.pause)).status == PAUSED
    resumed = await handle.execute_update(BroadcastWorkflow.resume)
    assert resumed.status == BroadcastStatus.SCHEDULED  # still waiting for send_at
    cancelled = await handle.execute_update(BroadcastWorkflow.cancel)

    assert cancelled.status == CANCELLED and (await handle.result()).status == CANCELLED
    assert fake.statuses == [PAUSED, BroadcastStatus.SCHEDULED, CANCELLED]
    assert fake.pages == [] and fake.batches == []


async def test_deferred_recipients_are_released_at_their_time_by_the_broadcast_itself(harness):
    fake = harness.broadcasts
    r = fake.with_audience(5)
    started = utc_now()
    fake.deferred = {r[1]: started + timedelta(hours=3), r[3]: started + timedelta(hours=5)}

    handle = await harness.start(BroadcastWorkflow.run, broadcast(page_size=2))
    progress = await handle.result()

    walked = [(b.after, b.through) for b in fake.batch_inputs() if b.through is not None]
    assert walked == [(None, r[1]), (r[1], r[3]), (r[3], r[4])]
    assert fake.sent[:3] == [(r[0], "email"), (r[2], "email"), (r[4], "email")]
    assert fake.sent[3:] == [(r[1], "email"), (r[3], "email")]  # each at its time
    first, second = (call.at - started for call in fake.releases)
    assert timedelta(hours=3) <= first < timedelta(hours=3, minutes=1)
    assert timedelta(hours=5) <= second < timedelta(hours=5, minutes=1)
    released_sends = [b for b in fake.batch_inputs() if b.through is None]
    assert [(b.after, b.channel) for b in released_sends] == [(None, "email")] * 2
    # Two durable timers in this one workflow, not a workflow per recipient.
    assert len(await events_of(handle, EventType.EVENT_TYPE_TIMER_STARTED)) == 2
    assert not await events_of(
        handle, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    )
    assert (progress.sent, progress.deferred, progress.planned) == (5, 0, 5)


async def test_transient_failures_are_swept_with_backoff_and_final_after_the_window(harness):
    fake = harness.broadcasts
    r = fake.with_audience(3)
    fake.transient = {r[0]: ALWAYS, r[2]: 2}  # r[2] succeeds at its third send
    retry = DeliveryRetry(initial_seconds=1.0, max_interval_seconds=10.0, max_total_seconds=60.0)

    progress = await harness.execute(BroadcastWorkflow.run, broadcast(page_size=5, retry=retry))

    walk, *sweeps = fake.batches
    assert walk.input.through == r[2]
    assert all(s.input.through is None and s.input.after is None for s in sweeps)
    assert [s.input.retry_window_ends is not None for s in sweeps] == [False] * (
        len(sweeps) - 1
    ) + [True]
    times = [batch.at for batch in fake.batches]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    doubling = [1, 2, 4, 8, 10, 10, 10, 10]  # to max_interval_seconds (plus the sends' time)
    assert len(gaps) == len(doubling) + 1
    assert all(wait <= gap < wait + 2 for gap, wait in zip(gaps, doubling, strict=False))
    # The last at the end of the window, 60 s after the broadcast started (just before the walk).
    assert 59 < (times[-1] - times[0]).total_seconds() < 62
    assert sorted(fake.sent) == [(r[1], "email"), (r[2], "email")]
    assert fake.deliveries[(r[0], "email")].status == "failed"
    assert (progress.status, progress.sent, progress.failed) == (COMPLETED, 2, 1)


async def test_a_providers_retry_after_lengthens_the_wait_before_a_sweep(harness):
    fake = harness.broadcasts
    r = fake.with_audience(1)
    fake.transient = {r[0]: 1}
    fake.retry_after = 30.0

    await harness.execute(BroadcastWorkflow.run, broadcast())

    walk, sweep = fake.batches
    assert 30 <= (sweep.at - walk.at).total_seconds() < 32  # plus the sends' time
    assert fake.sent == [(r[0], "email")]


async def test_the_progress_query_reports_the_workflows_counters(harness):
    fake = harness.broadcasts
    r = fake.with_audience(9)
    fake.suppressed = {r[0]}
    release = fake.hold_sends()
    handle = await harness.start(BroadcastWorkflow.run, broadcast(page_size=3))
    await eventually(lambda: asyncio.sleep(0, len(fake.pages)), lambda n: n == 2)

    progress = await eventually(
        lambda: handle.query(BroadcastWorkflow.progress), lambda p: p.planned == 6
    )

    assert (progress.status, progress.total, progress.sent, progress.suppressed) == (
        RUNNING,
        9,
        0,
        1,
    )
    assert progress.rate_per_second is not None and progress.rate_per_second > 0
    assert progress.eta_seconds == pytest.approx(3 / progress.rate_per_second)
    release.set()
    done = await handle.result()
    assert (done.status, done.planned, done.sent, done.suppressed) == (COMPLETED, 9, 8, 1)


async def test_a_step_that_cannot_succeed_ends_the_broadcast_failed(harness):
    fake = harness.broadcasts
    fake.with_audience(2)
    fake.pages_fail = cannot_succeed("plan_broadcast_page", "stored preferences are invalid")

    with pytest.raises(WorkflowFailureError) as failed:
        await harness.execute(BroadcastWorkflow.run, broadcast())

    assert "stored preferences are invalid" in str(failed.value.cause)
    assert fake.statuses == [RUNNING, BroadcastStatus.FAILED]
