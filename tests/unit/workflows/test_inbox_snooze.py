"""A snoozed message's wake-up: it returns at its time, a new snooze replaces the wait, and an
unsnooze ends it. Started as the API starts it (temporal_clients/inbox_snooze.py)."""

import dataclasses
from contextlib import nullcontext
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle

from config.settings import Settings
from domain.inbox_snooze import SnoozeWakeUp
from temporal_clients.inbox_snooze import end_wake_up, start_wake_up
from tests.unit.workflows.fakes import snooze
from tests.unit.workflows.harness import Harness, eventually, reached


async def snoozed(
    harness: Harness, wake: SnoozeWakeUp, *, skip_time: bool = True
) -> WorkflowHandle:
    """Snooze as the API does, on this test's worker. With `skip_time=False` the wake-up's
    clock runs as the real one until the test fast-forwards it."""
    with nullcontext() if skip_time else harness.env.with_time_skipping_disabled():
        handle = await start_wake_up(
            harness.env.client, Settings(task_queue=harness.task_queue), wake
        )
    harness.started.append(handle)
    return handle


async def waiting(handle: WorkflowHandle) -> timedelta:
    """Once the wake-up sleeps: how long its durable timer was set for."""
    await eventually(lambda: reached(handle, EventType.EVENT_TYPE_TIMER_STARTED), bool)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            return event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    raise AssertionError("no timer")


async def test_a_snoozed_message_returns_at_its_time_not_before(harness, workflow_env):
    wake = snooze(timedelta(hours=3))
    handle = await snoozed(harness, wake, skip_time=False)

    timer = await waiting(handle)
    assert timedelta(hours=2, minutes=59) < timer <= timedelta(hours=3)

    await workflow_env.fast_forward(handle, timedelta(hours=2, minutes=58))
    assert harness.inbox.returned == []  # still asleep a minute before its time

    await workflow_env.fast_forward(handle, timedelta(minutes=3))
    assert await handle.result() is True
    assert harness.inbox.returned == [wake]


async def test_snoozing_again_replaces_the_wait(harness):
    first = snooze(timedelta(hours=1))
    earlier = await snoozed(harness, first, skip_time=False)
    await waiting(earlier)

    again = dataclasses.replace(first, until=first.until + timedelta(days=2))
    later = await snoozed(harness, again)

    assert later.id == earlier.id  # one wake-up per message
    assert await later.result() is True
    assert harness.inbox.returned == [again]  # only the new time: the first wait is gone
    described = await harness.env.client.get_workflow_handle(
        earlier.id, run_id=earlier.result_run_id
    ).describe()
    assert described.status == WorkflowExecutionStatus.TERMINATED


async def test_an_unsnooze_before_the_time_ends_the_wait_with_no_return(harness, workflow_env):
    wake = snooze(timedelta(hours=5))
    handle = await snoozed(harness, wake, skip_time=False)
    await waiting(handle)

    await end_wake_up(harness.env.client, wake.message_id)

    with pytest.raises(WorkflowFailureError):  # terminated
        await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
    assert harness.inbox.returned == []


async def test_ending_a_wake_up_that_already_ran_or_never_was_is_harmless(harness):
    wake = snooze(timedelta(minutes=5))
    handle = await snoozed(harness, wake)
    assert await handle.result() is True

    await end_wake_up(harness.env.client, wake.message_id)  # it ran already
    await end_wake_up(harness.env.client, snooze(timedelta(minutes=5)).message_id)  # none

    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_a_snooze_whose_time_passed_before_it_started_returns_at_once(harness):
    wake = snooze(-timedelta(seconds=1))  # e.g. a start the server received late

    handle = await snoozed(harness, wake)

    assert await handle.result() is True
    assert not await reached(handle, EventType.EVENT_TYPE_TIMER_STARTED)
    assert harness.inbox.returned == [wake]
