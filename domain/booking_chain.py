"""A booking chain's state machine: which events it applies, what they send, what is due next.

Pure code on BookingState, so BookingWorkflow only orchestrates (load, send, sleep) and
these rules are unit-tested without Temporal.
"""

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import booking_notices as notices
from domain.booking_contracts import (
    BookingDetails,
    BookingEvent,
    BookingEventType,
    BookingState,
    BookingStatus,
    ChainConfig,
    EventOutcome,
    EventVerdict,
    NoticeRequest,
    ReminderState,
    ReminderStatus,
)
from domain.policy import reminder_times

KEEP_EVENT_IDS = 50


class ReminderChangeRefused(Exception):
    """The reminder was sent, cancelled or never planned, or the new time is not possible."""


@dataclass(frozen=True)
class Step:
    kind: str  # "reminder" or "finish" (the follow-up, if enabled, then the end of the chain)
    due: datetime
    reminder: ReminderState | None = None


def ignore_reason(state: BookingState, event: BookingEvent) -> str | None:
    """Why the chain ignores `event`, or None to apply it."""
    if event.event_id in state.applied_event_ids:
        return "already applied"
    if state.closed:
        return f"the chain has ended ({state.status})"
    if state.booking is None and event.type != BookingEventType.CREATED:
        return "booking.created has not been applied"
    if state.booking is not None and event.type == BookingEventType.CREATED:
        return "the booking exists already"
    if state.status == BookingStatus.COMPLETED and event.type != BookingEventType.COMPLETED:
        return "the booking is completed"
    if state.last_event_at and event.occurred_at < state.last_event_at:
        return "older than the last event applied (the booking service's latest state wins)"
    return None


def note_ignored(state: BookingState, event: BookingEvent, reason: str) -> None:
    state.ignored_events = [*state.ignored_events, f"{event.event_id}: {reason}"][-KEEP_EVENT_IDS:]


def event_verdict(state: BookingState, event_id: str) -> EventVerdict:
    """What the chain did with event `event_id`, as its state shows it; QUEUED while it has
    not decided (the event has not reached it, or it is loading the booking's settings)."""
    if event_id in state.applied_event_ids:
        return EventVerdict(EventOutcome.APPLIED)
    prefix = f"{event_id}: "
    for note in reversed(state.ignored_events):
        if note.startswith(prefix):
            return EventVerdict(EventOutcome.IGNORED, note[len(prefix) :])
    return EventVerdict(EventOutcome.QUEUED)


def apply_event(
    state: BookingState,
    event: BookingEvent,
    config: ChainConfig | None,
    tenant_id: uuid.UUID,
    now: datetime,
) -> list[NoticeRequest]:
    """Change `state` for an event `ignore_reason` accepted; returns the notices it sends.

    `config` is the organizer's current settings, needed by created and rescheduled."""
    previous = state.booking
    booking = state.booking = copy.deepcopy(event.booking)
    state.last_event_at = event.occurred_at
    state.applied_event_ids = [*state.applied_event_ids, event.event_id][-KEEP_EVENT_IDS:]
    if event.type == BookingEventType.CREATED:
        state.status, state.config = BookingStatus.CONFIRMED, config
        plan_reminders(state, now)
        return notices.to_both(tenant_id, booking, notices.CONFIRMATION, ("confirmation",))
    if event.type == BookingEventType.RESCHEDULED:
        state.config = config or state.config
        plan_reminders(state, now)
        assert previous is not None  # ignore_reason refuses a reschedule before booking.created
        if booking.start == previous.start:
            return []  # details changed, not the time: nothing to announce
        state.status = BookingStatus.RESCHEDULED
        state.reschedules += 1
        return notices.to_both(
            tenant_id,
            booking,
            notices.RESCHEDULED,
            ("rescheduled", str(state.reschedules)),
            previous_start=notices.utc_iso(previous.start),
        )
    _drop_pending_reminders(state)
    if event.type == BookingEventType.CANCELLED:
        state.status, state.closed = BookingStatus.CANCELLED, True
        return notices.to_both(
            tenant_id,
            booking,
            notices.CANCELLATION,
            ("cancellation",),
            cancellation_reason=booking.cancellation_reason,
        )
    state.status = BookingStatus.COMPLETED  # the follow-up, if enabled, still goes after the end
    return []


def plan_reminders(state: BookingState, now: datetime) -> None:
    """Every reminder still to come for the current start: offsets already past are skipped
    (a late reminder is worse than none), as are offsets cancelled through the API and
    reminders already sent for this same start (a reschedule back to it sends none twice)."""
    booking = current_booking(state)
    start = booking.start
    offsets = (
        booking.reminder_minutes_before or (state.config or ChainConfig()).reminder_offsets_minutes
    )
    sent = {(r.offset_minutes, r.start) for r in state.reminders_sent}
    state.reminders = [
        ReminderState(reminder.offset_minutes, booking.start, reminder.due_utc)
        for reminder in reminder_times(start, offsets, now)
        if reminder.offset_minutes not in state.cancelled_offsets
        and (reminder.offset_minutes, start) not in sent
    ]


def current_booking(state: BookingState) -> BookingDetails:
    """The booking of a chain that has applied booking.created (what every step after it needs)."""
    if state.booking is None:
        raise ValueError("booking.created has not been applied to this chain")
    return state.booking


def next_step(state: BookingState) -> Step | None:
    """The next thing due; None until booking.created is applied, and once the chain ended."""
    if state.booking is None or state.closed:
        return None
    pending = [r for r in state.reminders if r.status == ReminderStatus.PENDING]
    if pending:
        reminder = min(pending, key=lambda r: r.due)
        return Step("reminder", reminder.due, reminder)
    return Step("finish", finish_time(state))


def finish_time(state: BookingState) -> datetime:
    end = current_booking(state).end
    config = state.config or ChainConfig()
    return (
        end + timedelta(minutes=config.follow_up_delay_minutes) if config.follow_up_enabled else end
    )


def follow_up_due(state: BookingState) -> bool:
    return (
        bool(state.config and state.config.follow_up_enabled)
        and state.status != BookingStatus.CANCELLED
    )


def mark_sent(
    state: BookingState, reminder: ReminderState, notification_id: uuid.UUID, now: datetime
) -> None:
    reminder.status, reminder.sent_at, reminder.notification_id = (
        ReminderStatus.SENT,
        now,
        notification_id,
    )
    state.reminders_sent.append(copy.deepcopy(reminder))


def finish(state: BookingState) -> None:
    if state.status != BookingStatus.CANCELLED:
        state.status = BookingStatus.COMPLETED
    state.closed = True


def pending_reminder(state: BookingState, offset_minutes: float) -> ReminderState:
    for reminder in state.reminders:
        if reminder.offset_minutes == offset_minutes and reminder.status == ReminderStatus.PENDING:
            return reminder
    raise ReminderChangeRefused(
        f"no pending reminder {notices.offset_text(offset_minutes)} minutes before the start"
    )


def cancel_reminder(state: BookingState, offset_minutes: float) -> ReminderState:
    """Stays cancelled after a reschedule of the booking too."""
    reminder = pending_reminder(state, offset_minutes)
    reminder.status = ReminderStatus.CANCELLED
    state.cancelled_offsets.append(offset_minutes)
    return reminder


def reschedule_reminder(
    state: BookingState, offset_minutes: float, due: datetime | None, now: datetime
) -> ReminderState:
    """Until the booking itself is rescheduled, which plans every reminder afresh."""
    reminder = pending_reminder(state, offset_minutes)
    if due is None:
        raise ReminderChangeRefused("a reschedule needs the new due time")
    if not now < due < current_booking(state).start:
        raise ReminderChangeRefused(
            "the new time must be in the future and before the booking starts"
        )
    reminder.due = due
    return reminder


def with_next(state: BookingState) -> BookingState:
    """The state with its derived fields filled in, as the `state` query shows it."""
    shown = copy.deepcopy(state)
    step = next_step(state)
    shown.next_reminder = step.reminder if step else None
    shown.follow_up_due = finish_time(state) if step and follow_up_due(state) else None
    return shown


def _drop_pending_reminders(state: BookingState) -> None:
    for reminder in state.reminders:
        if reminder.status == ReminderStatus.PENDING:
            reminder.status = ReminderStatus.CANCELLED
