"""BookingWorkflow: the chain of notices from confirmation to follow-up, and what changes it."""

from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import CancelledError

from domain.booking_contracts import BookingEventType as E
from domain.booking_contracts import BookingStatus, ChainConfig, ReminderChange, ReminderStatus
from tests.unit.workflows.fakes import (
    booking,
    booking_event,
    booking_input,
    new_booking_id,
    utc_now,
    whole_minute,
)
from tests.unit.workflows.harness import eventually
from workflows.booking import BookingWorkflow
from workflows.notices import STORE_LOCALLY

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


async def start_chain(harness, details, *, skip_time: bool = True, **input):
    """As the API starts a chain: signal-with-start, booking.created as the start signal."""
    chain, created = booking_input(details.booking_id, **input), booking_event(E.CREATED, details)
    handle = await harness.start(
        BookingWorkflow.run,
        chain,
        id=f"booking-{chain.tenant_id}-{details.booking_id}",
        skip_time=skip_time,
        start_signal="event",
        start_signal_args=[created],
    )
    return handle, created


def state_where(handle, check):
    return eventually(lambda: handle.query(BookingWorkflow.state), check)


def key(details, *parts: str) -> str:
    return "-".join(("booking", details.booking_id, *parts))


def both(details, *parts: str) -> list[str]:
    return [key(details, *parts, "invitee"), key(details, *parts, "organizer")]


def compact(start: datetime) -> str:
    return start.strftime("%Y%m%dT%H%M%SZ")


async def test_the_whole_chain_confirmation_reminders_at_their_times_and_follow_up(harness):
    harness.bookings.config = ChainConfig(
        [1440.0, 60.0], follow_up_enabled=True, follow_up_delay_minutes=60
    )
    start = whole_minute(utc_now() + 3 * DAY)
    details = booking(new_booking_id(), start)

    handle, _ = await start_chain(harness, details)
    state = await handle.result()

    assert (state.status, state.closed) == (BookingStatus.COMPLETED, True)
    assert [(r.offset_minutes, r.due) for r in state.reminders_sent] == [
        (1440, start - DAY),
        (60, start - HOUR),
    ]
    assert all(abs(r.sent_at - r.due) < timedelta(seconds=2) for r in state.reminders_sent)
    calls = harness.notices.calls
    assert sorted(c.key for c in calls[:2]) == sorted(both(details, "confirmation"))
    assert [c.key for c in calls[2:]] == [
        key(details, "reminder", "1440", compact(start)),
        key(details, "reminder", "60", compact(start)),
        key(details, "follow-up"),
    ]
    follow_up = calls[-1]
    assert abs(follow_up.scheduled - (details.end + HOUR)) < timedelta(seconds=2)
    assert harness.bookings.recorded[-1].state.closed


async def test_a_cancellation_during_a_reminder_wait_stops_the_reminders(harness, workflow_env):
    harness.bookings.config = ChainConfig([1440.0, 60.0], follow_up_enabled=True)
    start = whole_minute(utc_now() + 3 * DAY)
    details = booking(new_booking_id(), start)
    handle, _ = await start_chain(harness, details, skip_time=False)
    await state_where(handle, lambda s: s.next_reminder is not None)

    await workflow_env.fast_forward(handle, 2 * DAY + MINUTE)  # past the day-before reminder
    await state_where(handle, lambda s: len(s.reminders_sent) == 1)
    await handle.signal(BookingWorkflow.event, booking_event(E.CANCELLED, details))

    state = await handle.result()
    assert (state.status, state.closed) == (BookingStatus.CANCELLED, True)
    assert {r.offset_minutes: r.status for r in state.reminders} == {
        1440: ReminderStatus.SENT,
        60: ReminderStatus.CANCELLED,
    }
    keys = harness.notices.keys()
    assert sorted(keys) == sorted(
        [
            *both(details, "confirmation"),
            key(details, "reminder", "1440", compact(start)),
            *both(details, "cancellation"),
        ]
    )  # no hour-before reminder, no follow-up
    assert harness.bookings.recorded[-1].state.status == BookingStatus.CANCELLED


async def test_a_reschedule_moves_the_reminders_to_the_new_start(harness, workflow_env):
    start = whole_minute(utc_now() + 3 * DAY)
    details, later = booking(new_booking_id(), start), start + 2 * DAY
    handle, _ = await start_chain(harness, details, skip_time=False)
    await state_where(handle, lambda s: s.next_reminder is not None)

    await handle.signal(
        BookingWorkflow.event, booking_event(E.RESCHEDULED, booking(details.booking_id, later))
    )
    moved = await state_where(handle, lambda s: s.reschedules == 1)

    assert moved.status == BookingStatus.RESCHEDULED
    assert [(r.offset_minutes, r.due) for r in moved.reminders] == [
        (1440, later - DAY),
        (60, later - HOUR),
    ]
    await workflow_env.fast_forward(handle)  # to the end of the chain
    state = await handle.result()
    assert [r.due for r in state.reminders_sent] == [later - DAY, later - HOUR]
    keys = harness.notices.keys()
    assert set(both(details, "rescheduled", "1")) <= set(keys)
    assert key(details, "reminder", "60", compact(later)) in keys
    assert not any(compact(start) in k for k in keys)
    assert (
        len(harness.bookings.configs_loaded) == 2
    )  # created and rescheduled read the organizer's settings


async def test_reminder_updates_cancel_and_move_one_reminder_and_refuse_what_cannot_be(
    harness, workflow_env
):
    start = whole_minute(utc_now() + 3 * DAY)
    details = booking(new_booking_id(), start)
    handle, _ = await start_chain(harness, details, skip_time=False)
    await state_where(handle, lambda s: s.next_reminder is not None)

    cancelled = await handle.execute_update(BookingWorkflow.cancel_reminder, ReminderChange(1440))
    assert cancelled.status == ReminderStatus.CANCELLED
    assert harness.bookings.recorded[-1].state.cancelled_offsets == [
        1440
    ]  # recorded before the update returned
    earlier = start - 2 * HOUR
    moved = await handle.execute_update(
        BookingWorkflow.reschedule_reminder, ReminderChange(60, earlier)
    )
    assert moved.due == earlier

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(BookingWorkflow.cancel_reminder, ReminderChange(1440))
    assert "no pending reminder 1440" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError):  # not before the start
        await handle.execute_update(
            BookingWorkflow.reschedule_reminder, ReminderChange(60, start + HOUR)
        )

    await workflow_env.fast_forward(handle)
    state = await handle.result()
    assert [(r.offset_minutes, r.due) for r in state.reminders_sent] == [(60, earlier)]
    assert abs(state.reminders_sent[0].sent_at - earlier) < timedelta(seconds=2)


async def test_a_long_history_continues_as_new_with_the_chain_state(harness):
    start = whole_minute(utc_now() + 3 * DAY)
    details = booking(new_booking_id(), start)

    handle, _ = await start_chain(harness, details, max_history_events=15)
    state = await handle.result()

    assert (state.status, len(state.reminders_sent)) == (BookingStatus.COMPLETED, 2)
    keys = harness.notices.keys()
    assert len(keys) == len(set(keys)) == 4  # two confirmations, two reminders: none twice
    first_run = harness.env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    events = [e async for e in first_run.fetch_history_events()]
    assert events[-1].HasField("workflow_execution_continued_as_new_event_attributes")


async def test_a_store_step_failing_past_its_local_attempts_goes_on_as_a_regular_activity(
    harness,
):
    """A database down for longer than the local attempts' bound: the step is retried by the
    server (without a timer and a task per attempt in the history) and the chain goes on."""
    start = whole_minute(utc_now() + 3 * DAY)
    details = booking(new_booking_id(), start)
    local_attempts = STORE_LOCALLY["retry_policy"].maximum_attempts
    harness.bookings.config_failures = local_attempts + 2

    handle, _ = await start_chain(harness, details)
    state = await handle.result()

    assert state.status == BookingStatus.COMPLETED
    assert harness.bookings.config_attempts == [True] * local_attempts + [False] * 3
    assert sorted(harness.notices.keys()[:2]) == sorted(both(details, "confirmation"))


async def test_a_cancel_during_a_local_attempt_cancels_the_chain_without_going_on(harness):
    """A cancel that meets a store step's local attempt in flight ends the chain cancelled:
    the step is not carried on as a regular activity."""
    details = booking(new_booking_id(), whole_minute(utc_now() + 3 * DAY))
    harness.bookings.config_failures = 1_000  # the database stays down...
    harness.bookings.config_stall_s = 30.0  # ...and each attempt hangs before it fails
    handle, _ = await start_chain(harness, details, skip_time=False)

    async def attempts() -> int:
        return len(harness.bookings.config_attempts)

    await eventually(attempts, lambda n: n >= 1)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()

    assert isinstance(failed.value.cause, CancelledError)
    events = [e async for e in handle.fetch_history_events()]
    assert not [e for e in events if e.HasField("activity_task_scheduled_event_attributes")]
    assert harness.bookings.config_attempts == [True]


async def test_a_repeated_event_is_ignored(harness):
    start = whole_minute(utc_now() + 3 * DAY)
    details = booking(new_booking_id(), start)
    handle, created = await start_chain(harness, details, skip_time=False)
    moved = booking_event(E.RESCHEDULED, booking(details.booking_id, start + DAY))

    for event in (moved, moved, created):  # the booking service retried its webhooks
        await handle.signal(BookingWorkflow.event, event)
    state = await state_where(handle, lambda s: len(s.ignored_events) == 2)

    assert state.reschedules == 1
    assert state.ignored_events == [
        f"{moved.event_id}: already applied",
        f"{created.event_id}: already applied",
    ]
    await handle.signal(BookingWorkflow.event, booking_event(E.CANCELLED, details))
    await handle.result()
    keys = harness.notices.keys()
    assert sorted(keys) == sorted(
        [
            *both(details, "confirmation"),
            *both(details, "rescheduled", "1"),
            *both(details, "cancellation"),
        ]
    )
