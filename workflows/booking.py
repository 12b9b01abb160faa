"""BookingWorkflow: one booking's chain of notices, from confirmation to follow-up.

Booking events arrive as the `event` signal; the API sends booking.created with
signal-with-start, so it is always the first. The loop handles every queued event before
anything due: Temporal applies signals before fired timers within one workflow task, so a
cancellation that arrives with a reminder's timer, even in the same second, stops it.
The rules (what an event changes, what is due next) are pure code in domain/booking_chain.py.
"""

import asyncio
import copy
import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.booking import BookingActivities
    from domain import booking_chain as chain
    from domain.booking_contracts import (
        BookingConfigInput,
        BookingEvent,
        BookingEventType,
        BookingInput,
        BookingState,
        RecordBookingInput,
        ReminderChange,
        ReminderState,
        ReminderStatus,
    )
    from domain.booking_notices import follow_up_notice, reminder_notice
    from workflows import search_attributes as sa
    from workflows.notices import send_notice, store


@workflow.defn
class BookingWorkflow:
    def __init__(self) -> None:
        self._tenant_id = uuid.UUID(int=0)  # set by run()
        self._state = BookingState(booking_id="")
        self._inbox: list[BookingEvent] = []
        # Every change the bookings table must show bumps `_version`; `_recorded` is the
        # last version written, so an update can wait until its change is visible.
        self._version = 0
        self._recorded = 0

    @workflow.run
    async def run(self, input: BookingInput) -> BookingState:
        self._tenant_id = input.tenant_id
        self._state = input.carried or BookingState(input.booking_id)
        while not self._state.closed:
            await self._handle_inbox()
            await self._record()
            step = chain.next_step(self._state)
            if step is None:  # closed by an event, or booking.created is still on its way
                if not self._state.closed:
                    await workflow.wait_condition(lambda: bool(self._inbox))
                continue
            if self._history_is_long(input):
                # Many reschedules make a long history: carry the state into a fresh run, once
                # no update is waiting (an update waits for the loop to record its change).
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() or self._unsettled()
                )
                if not self._unsettled():
                    workflow.continue_as_new(dataclasses.replace(input, carried=self._state))
                continue
            if await self._sleep_until(step.due):
                await self._take(step)
        await self._record()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return chain.with_next(self._state)

    @workflow.signal
    def event(self, event: BookingEvent) -> None:
        self._inbox.append(event)

    @workflow.query
    def state(self) -> BookingState:
        return chain.with_next(self._state)

    @workflow.update
    async def cancel_reminder(self, change: ReminderChange) -> ReminderState:
        reminder = _refusing(lambda: chain.cancel_reminder(self._state, change.offset_minutes))
        await self._changed()
        return reminder

    @cancel_reminder.validator
    def _validate_cancel(self, change: ReminderChange) -> None:
        chain.pending_reminder(self._state, change.offset_minutes)

    @workflow.update
    async def reschedule_reminder(self, change: ReminderChange) -> ReminderState:
        reminder = _refusing(
            lambda: chain.reschedule_reminder(
                self._state, change.offset_minutes, change.due, workflow.now()
            )
        )
        await self._changed()
        return reminder

    @reschedule_reminder.validator
    def _validate_reschedule(self, change: ReminderChange) -> None:
        chain.reschedule_reminder(
            copy.deepcopy(self._state),
            change.offset_minutes,
            change.due,
            workflow.now(),
        )

    async def _handle_inbox(self) -> None:
        while self._inbox:
            event = self._inbox.pop(0)
            reason = chain.ignore_reason(self._state, event)
            if reason:
                chain.note_ignored(self._state, event, reason)
                workflow.logger.info(
                    "booking %s: %s %s ignored: %s",
                    self._state.booking_id,
                    event.type,
                    event.event_id,
                    reason,
                )
                continue
            config = None
            if event.type in (BookingEventType.CREATED, BookingEventType.RESCHEDULED):
                config = await store(
                    BookingActivities.load_booking_config,
                    BookingConfigInput(self._tenant_id, event.booking.organizer.id),
                )
            notices = chain.apply_event(self._state, event, config, self._tenant_id, workflow.now())
            workflow.upsert_search_attributes([sa.STATUS.value_set(self._state.status)])
            self._version += 1
            await self._record()
            await asyncio.gather(*(send_notice(notice) for notice in notices))

    async def _sleep_until(self, due: datetime) -> bool:
        """True once `due` is reached with nothing new to handle first; False when an event
        or a reminder change came in (the caller re-plans)."""
        version = self._version

        def changed() -> bool:
            return bool(self._inbox) or self._version != version

        delay = due - workflow.now()
        if delay > timedelta(0):
            try:
                # A durable timer that an event or an update cuts short.
                await workflow.wait_condition(changed, timeout=delay)
            except TimeoutError:
                pass
        return not changed()

    async def _take(self, step: chain.Step) -> None:
        if step.kind == "reminder":
            reminder = step.reminder
            if reminder is None:
                raise ValueError(f"booking {self._state.booking_id}: a reminder step without one")
            reminder.status = ReminderStatus.SENDING  # no longer cancellable
            now = workflow.now()
            booking = chain.current_booking(self._state)
            notification_id = await send_notice(
                reminder_notice(self._tenant_id, booking, reminder.offset_minutes)
            )
            chain.mark_sent(self._state, reminder, notification_id, now)
        else:
            if chain.follow_up_due(self._state):
                booking = chain.current_booking(self._state)
                await send_notice(follow_up_notice(self._tenant_id, booking))
            chain.finish(self._state)
            workflow.upsert_search_attributes([sa.STATUS.value_set(self._state.status)])
        self._version += 1

    async def _record(self) -> None:
        if self._recorded == self._version or self._state.booking is None:
            return
        version = self._version
        await store(
            BookingActivities.record_booking,
            RecordBookingInput(
                self._tenant_id, workflow.info().workflow_id, copy.deepcopy(self._state)
            ),
        )
        self._recorded = max(self._recorded, version)

    async def _changed(self) -> None:
        """Wake the loop, and return once the change is in the bookings table."""
        self._version += 1
        version = self._version
        await workflow.wait_condition(lambda: self._recorded >= version)

    def _unsettled(self) -> bool:
        return bool(self._inbox) or self._recorded != self._version

    def _history_is_long(self, input: BookingInput) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= input.max_history_events
        )


def _refusing(change: Callable[[], ReminderState]) -> ReminderState:
    """A refusal fails the update, not the workflow task (two updates can pass validation
    together)."""
    try:
        return change()
    except chain.ReminderChangeRefused as exc:
        raise ApplicationError(str(exc), type="ReminderChangeRefused", non_retryable=True) from None
