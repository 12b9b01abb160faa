"""The booking chain's rules, without Temporal: events, reminder plans, what is due next."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain import booking_chain as chain
from domain.booking_contracts import (
    BookingDetails,
    BookingEvent,
    BookingEventType,
    BookingState,
    ChainConfig,
    EventOutcome,
    EventVerdict,
    Person,
    ReminderState,
    ReminderStatus,
)

TENANT = uuid.UUID(int=1)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=3)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
CONFIG = ChainConfig([1440, 60], follow_up_enabled=True, follow_up_delay_minutes=30)


def details(start: datetime = START, **extra) -> BookingDetails:
    return BookingDetails(
        booking_id="bk1",
        organizer=Person("Ada", "ada@example.com", timezone="America/New_York", id="org-1"),
        invitee=Person("Grace", "grace@example.com", timezone="Europe/Berlin"),
        start=start,
        end=start + timedelta(minutes=30),
        **extra,
    )


def event(
    type: str, start: datetime = START, at: datetime = NOW, id: str | None = None, **extra
) -> BookingEvent:
    return BookingEvent(
        id or f"{type}-{at.isoformat()}",
        BookingEventType(f"booking.{type}"),
        at,
        details(start, **extra),
    )


def created(now: datetime = NOW, start: datetime = START) -> tuple[BookingState, list]:
    state = BookingState("bk1")
    notices = chain.apply_event(state, event("created", start, now), CONFIG, TENANT, now)
    return state, notices


def planned(state: BookingState) -> list[tuple[float, datetime]]:
    return [(r.offset_minutes, r.due) for r in state.reminders]


def due_step(state: BookingState) -> chain.Step:
    """The chain's next step, where the test expects one."""
    step = chain.next_step(state)
    assert step is not None, "the chain has no next step"
    return step


def due_reminder(state: BookingState) -> ReminderState:
    """The reminder the chain sends next, where the test expects one."""
    reminder = due_step(state).reminder
    assert reminder is not None, "the chain's next step is no reminder"
    return reminder


def test_created_confirms_to_both_and_plans_each_offset():
    state, notices = created()
    assert state.status == "confirmed"
    assert [(n.event_key, n.recipient_external_id, n.idempotency_key) for n in notices] == [
        ("booking.confirmation", "email:grace@example.com", "booking-bk1-confirmation-invitee"),
        ("booking.confirmation", "org-1", "booking-bk1-confirmation-organizer"),
    ]
    assert planned(state) == [(1440, START - DAY), (60, START - HOUR)]
    step = due_step(state)
    assert (step.kind, step.due) == ("reminder", START - DAY)
    assert due_reminder(state).offset_minutes == 1440


def test_offsets_already_past_are_skipped():
    state, _ = created(now=START - 2 * HOUR)
    assert planned(state) == [(60, START - HOUR)]


def test_the_events_own_offsets_win_over_the_organizers():
    state = BookingState("bk1")
    chain.apply_event(
        state, event("created", reminder_minutes_before=[0.5, 30]), CONFIG, TENANT, NOW
    )
    assert planned(state) == [
        (30, START - timedelta(minutes=30)),
        (0.5, START - timedelta(seconds=30)),
    ]


def test_reschedule_replans_and_keeps_what_was_sent_for_that_start():
    state, _ = created()
    first = due_reminder(state)
    chain.mark_sent(state, first, uuid.UUID(int=2), START - DAY)
    later = START + 2 * DAY
    notices = chain.apply_event(
        state, event("rescheduled", later, START - DAY + HOUR), CONFIG, TENANT, START - DAY + HOUR
    )
    assert planned(state) == [(1440, later - DAY), (60, later - HOUR)]
    assert [n.idempotency_key for n in notices] == [
        "booking-bk1-rescheduled-1-invitee",
        "booking-bk1-rescheduled-1-organizer",
    ]
    assert notices[0].context["previous_start"] == START.isoformat()

    back = START - DAY + 2 * HOUR
    chain.apply_event(state, event("rescheduled", START, back), CONFIG, TENANT, back)
    assert planned(state) == [
        (60, START - HOUR)
    ]  # the day-before reminder for START went out already
    assert (state.status, state.reschedules) == ("rescheduled", 2)


def test_a_reschedule_that_keeps_the_start_announces_nothing():
    state, _ = created()
    notices = chain.apply_event(
        state,
        event("rescheduled", START, NOW + HOUR, meeting_link="https://x.example/2"),
        CONFIG,
        TENANT,
        NOW + HOUR,
    )
    assert notices == [] and state.status == "confirmed"
    assert state.booking is not None and state.booking.meeting_link == "https://x.example/2"


def test_cancel_drops_pending_reminders_and_closes_the_chain():
    state, _ = created()
    cancel = event("cancelled", at=NOW + HOUR, cancellation_reason="Ill")
    notices = chain.apply_event(state, cancel, None, TENANT, NOW + HOUR)
    assert [n.context["cancellation_reason"] for n in notices] == ["Ill", "Ill"]
    assert {r.status for r in state.reminders} == {ReminderStatus.CANCELLED}
    assert state.closed and chain.next_step(state) is None
    assert (
        chain.ignore_reason(state, event("rescheduled", at=NOW + 2 * HOUR))
        == "the chain has ended (cancelled)"
    )


@pytest.mark.parametrize(
    "incoming, reason",
    [
        (event("created", id="created-1"), "already applied"),
        (event("created", id="created-2"), "the booking exists already"),
        (
            event("rescheduled", at=NOW - HOUR),
            "older than the last event applied (the booking service's latest state wins)",
        ),
    ],
)
def test_duplicate_repeated_and_stale_events_are_ignored(incoming, reason):
    state = BookingState("bk1")
    chain.apply_event(state, event("created", id="created-1"), CONFIG, TENANT, NOW)
    assert chain.ignore_reason(state, incoming) == reason


def test_nothing_but_created_starts_a_chain():
    assert (
        chain.ignore_reason(BookingState("bk1"), event("cancelled"))
        == "booking.created has not been applied"
    )
    assert chain.next_step(BookingState("bk1")) is None


def test_after_the_reminders_the_chain_finishes_with_the_follow_up_after_the_end():
    state, _ = created()
    for reminder in list(state.reminders):
        chain.mark_sent(state, reminder, uuid.UUID(int=2), reminder.due)
    step = due_step(state)
    assert (step.kind, step.due) == ("finish", START + timedelta(minutes=30 + 30))
    assert chain.follow_up_due(state)
    chain.finish(state)
    assert (state.status, state.closed) == ("completed", True)


def test_completed_keeps_the_follow_up_but_no_reminder():
    state, _ = created()
    chain.apply_event(state, event("completed", at=NOW + HOUR), None, TENANT, NOW + HOUR)
    assert (state.status, due_step(state).kind, chain.follow_up_due(state)) == (
        "completed",
        "finish",
        True,
    )


def test_reminders_are_cancelled_and_moved_one_at_a_time():
    state, _ = created()
    chain.cancel_reminder(state, 1440)
    with pytest.raises(chain.ReminderChangeRefused):
        chain.cancel_reminder(state, 1440)
    moved = chain.reschedule_reminder(state, 60, START - 3 * HOUR, NOW)
    assert moved.due == START - 3 * HOUR
    with pytest.raises(chain.ReminderChangeRefused, match="before the booking starts"):
        chain.reschedule_reminder(state, 60, START + HOUR, NOW)
    later = START + DAY
    chain.apply_event(state, event("rescheduled", later, NOW + HOUR), CONFIG, TENANT, NOW + HOUR)
    assert planned(state) == [(60, later - HOUR)]  # a cancelled offset stays cancelled


def test_the_query_shows_the_next_reminder_and_the_follow_up():
    state, _ = created()
    shown = chain.with_next(state)
    assert shown.next_reminder is not None and shown.next_reminder.offset_minutes == 1440
    assert shown.follow_up_due == START + HOUR
    assert state.next_reminder is None  # the chain's own state is left as it is


def test_the_verdict_on_an_event_is_what_the_chain_recorded():
    state, _ = created()
    applied = state.applied_event_ids[0]
    stale = event("rescheduled", at=NOW - HOUR, id="ev-stale")
    chain.note_ignored(state, stale, chain.ignore_reason(state, stale) or "")
    # an id that merely starts like another's is not that event
    chain.note_ignored(state, event("rescheduled", id="ev-stale-2"), "the chain has ended")

    assert chain.event_verdict(state, applied) == EventVerdict(EventOutcome.APPLIED)
    assert chain.event_verdict(state, "ev-stale") == EventVerdict(
        EventOutcome.IGNORED,
        "older than the last event applied (the booking service's latest state wins)",
    )
    assert chain.event_verdict(state, "ev-stale-2").reason == "the chain has ended"
    assert chain.event_verdict(state, "ev-not-yet") == EventVerdict(EventOutcome.QUEUED)
