"""A status webhook message's workflow: attempts on its schedule until one delivers it, the last
failed one judging the endpoint; started as the dispatcher and a replay start it
(temporal_clients/status_webhooks.py), idempotently."""

import uuid
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError

from config.settings import Settings
from domain.status_webhooks import (
    DEFAULT_SCHEDULE_SECONDS,
    AttemptOutcome,
    FailedStatusWebhook,
    StatusWebhookInput,
    workflow_id,
)
from temporal_clients.status_webhooks import start_status_webhook
from tests.unit.workflows.harness import Harness, eventually, reached


async def started(harness: Harness, schedule: str = "", replay: int = 0) -> WorkflowHandle:
    """A message's workflow, started as the dispatcher starts it, on this test's worker."""
    message_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    settings = Settings(task_queue=harness.task_queue, status_webhook_schedule_seconds=schedule)
    run_id = workflow_id(message_id, replay)
    await start_status_webhook(harness.env.client, settings, message_id, tenant_id, run_id)
    handle = harness.env.client.get_workflow_handle(run_id)
    harness.started.append(handle)
    return handle


async def timers(handle: WorkflowHandle) -> list[float]:
    """The durable timers the workflow slept on, in seconds, in order."""
    return [
        event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]


def database_down() -> ApplicationError:
    """What the real activity raises when the database is unavailable: retried."""
    return ApplicationError("the database is unavailable", type="OperationalError")


async def test_every_attempt_failing_follows_the_schedule_then_judges_the_endpoint(harness):
    handle = await started(harness)

    assert await handle.result() == AttemptOutcome.FAILED

    attempts = harness.status_webhooks.attempts
    assert [a.attempt for a in attempts] == [1, 2, 3, 4, 5, 6, 7, 8]
    # Each attempt knows when the next is due; the last that there is none.
    assert [a.next_attempt_in_seconds for a in attempts] == [*DEFAULT_SCHEDULE_SECONDS[1:], None]
    # 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: the first at once, then a timer before each.
    assert await timers(handle) == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert sum(DEFAULT_SCHEDULE_SECONDS) / 3600 == pytest.approx(27.6, abs=0.1)
    [message] = {(a.message_id, a.tenant_id) for a in attempts}
    assert harness.status_webhooks.judged == [FailedStatusWebhook(*message)]


async def test_a_delivery_ends_the_attempts_without_judging(harness):
    harness.status_webhooks.script = [AttemptOutcome.FAILED, AttemptOutcome.DELIVERED]
    handle = await started(harness)

    assert await handle.result() == AttemptOutcome.DELIVERED

    assert [a.attempt for a in harness.status_webhooks.attempts] == [1, 2]
    assert await timers(handle) == [5]
    assert harness.status_webhooks.judged == []


async def test_a_stopped_attempt_ends_the_workflow_without_judging(harness):
    """The endpoint disabled or deleted meanwhile, or the message ended: nothing more to send."""
    harness.status_webhooks.script = [AttemptOutcome.FAILED, AttemptOutcome.STOPPED]
    handle = await started(harness)

    assert await handle.result() == AttemptOutcome.STOPPED

    assert len(harness.status_webhooks.attempts) == 2
    assert harness.status_webhooks.judged == []


async def test_the_schedule_comes_from_the_setting(harness):
    handle = await started(harness, schedule="0,1,2.5")

    assert await handle.result() == AttemptOutcome.FAILED

    assert [a.next_attempt_in_seconds for a in harness.status_webhooks.attempts] == [1, 2.5, None]
    assert await timers(handle) == [1, 2.5]
    assert len(harness.status_webhooks.judged) == 1


async def test_an_attempt_that_cannot_be_recorded_is_retried_briefly_then_counts_as_failed(
    harness,
):
    # The first attempt's five tries all meet the database down; the second delivers.
    harness.status_webhooks.script = [
        *(database_down() for _ in range(5)),
        AttemptOutcome.DELIVERED,
    ]
    handle = await started(harness, schedule="0,60")

    assert await handle.result() == AttemptOutcome.DELIVERED

    assert [a.attempt for a in harness.status_webhooks.attempts] == [1, 1, 1, 1, 1, 2]


async def test_a_last_attempt_that_cannot_be_recorded_fails_the_workflow_and_a_new_start_runs_it(
    harness,
):
    """The message stays pending; the dispatcher's sweep starts its workflow again under the
    same id, which a run that ended abnormally allows."""
    harness.status_webhooks.script = [database_down() for _ in range(5)]
    handle = await started(harness, schedule="0")

    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert harness.status_webhooks.judged == []  # the message has not failed: it is pending

    [attempt] = {(a.message_id, a.tenant_id) for a in harness.status_webhooks.attempts}
    harness.status_webhooks.script = [AttemptOutcome.DELIVERED]
    settings = Settings(task_queue=harness.task_queue, status_webhook_schedule_seconds="0")
    await start_status_webhook(harness.env.client, settings, *attempt, handle.id)

    again = harness.env.client.get_workflow_handle(handle.id)
    assert await again.result() == AttemptOutcome.DELIVERED
    assert len(harness.status_webhooks.attempts) == 6


async def test_starting_a_message_again_starts_nothing_while_it_runs_or_once_it_completed(
    harness, workflow_env
):
    """The sweep may find a message whose run is going (a busy worker) or has just delivered it:
    neither is started again, so no endpoint gets it twice."""
    message_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    settings = Settings(task_queue=harness.task_queue, status_webhook_schedule_seconds="0,3600")
    run_id = workflow_id(message_id)
    with harness.env.with_time_skipping_disabled():  # it waits for its second attempt
        await start_status_webhook(harness.env.client, settings, message_id, tenant_id, run_id)
        handle = harness.env.client.get_workflow_handle(run_id)
        await eventually(lambda: reached(handle, EventType.EVENT_TYPE_TIMER_STARTED), bool)
        first_run = (await handle.describe()).run_id

        await start_status_webhook(harness.env.client, settings, message_id, tenant_id, run_id)

    assert (await handle.describe()).run_id == first_run  # the same run goes on
    await workflow_env.fast_forward(handle, timedelta(hours=1, seconds=1))
    assert await handle.result() == AttemptOutcome.FAILED

    await start_status_webhook(harness.env.client, settings, message_id, tenant_id, run_id)

    described = await handle.describe()
    assert (described.run_id, described.status) == (first_run, WorkflowExecutionStatus.COMPLETED)
    assert len(harness.status_webhooks.attempts) == 2
    assert len(harness.status_webhooks.judged) == 1


async def test_a_replay_runs_under_its_own_id_and_carries_its_number(harness):
    harness.status_webhooks.script = [AttemptOutcome.DELIVERED]
    handle = await started(harness, replay=2)

    assert handle.id.endswith("-replay-2")
    assert await handle.result() == AttemptOutcome.DELIVERED
    history = await handle.fetch_history()
    payloads = history.events[0].workflow_execution_started_event_attributes.input.payloads
    [given] = await harness.env.client.data_converter.decode(payloads, [StatusWebhookInput])
    assert given.replay == 2
