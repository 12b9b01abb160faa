"""Changes to a booking's chain on the time-skipping server: reschedules, out-of-order and
repeated events, and the continue-as-new a long history brings."""

from datetime import UTC, datetime

from api.schemas.events import BookingPayload, EventIn
from domain.booking_contracts import BookingInput
from services.events import booking_event_of
from temporal_clients.bookings import booking_workflow_id
from tests.conftest import new_tenant
from tests.e2e.bookings_factory import (
    DAY,
    HOUR,
    MINUTE,
    advance_to,
    at,
    booking_event,
    chain,
    eventually,
    keys,
    new_address,
    new_booking_id,
    notifications,
    send,
    sent_count,
    state,
    whole_minute,
)
from workflows.booking import BookingWorkflow


async def test_reschedule_twice_replans_reminders_and_never_repeats_one(
    ts_stack, time_skipping_env, smtp, sessions
):
    env, stack = time_skipping_env, ts_stack
    booking_id, invitee = new_booking_id(), new_address()
    start = whole_minute(datetime.now(UTC) + 3 * DAY)
    created = datetime.now(UTC)
    await send(
        env,
        stack,
        booking_event(
            "booking.created", booking_id, start, invitee_email=invitee, occurred_at=created
        ),
    )
    await advance_to(env, stack, booking_id, start - DAY + MINUTE)
    await sent_count(stack, booking_id, 1)  # the day-before reminder for the first start

    later = start + 2 * DAY
    await send(
        env,
        stack,
        booking_event(
            "booking.rescheduled",
            booking_id,
            later,
            invitee_email=invitee,
            occurred_at=created + MINUTE,
        ),
    )
    moved = await eventually(lambda: state(stack, booking_id), lambda s: s["reschedules"] == 1)
    assert [(r["offset_minutes"], at(r["due"])) for r in moved["reminders"]] == [
        (1440, later - DAY),
        (60, later - HOUR),
    ]

    # Back to the first start: its day-before reminder went out already and is not repeated.
    await send(
        env,
        stack,
        booking_event(
            "booking.rescheduled",
            booking_id,
            start,
            invitee_email=invitee,
            occurred_at=created + 2 * MINUTE,
        ),
    )
    back = await eventually(lambda: state(stack, booking_id), lambda s: s["reschedules"] == 2)
    assert back["status"] == "rescheduled"
    assert [(r["offset_minutes"], at(r["due"])) for r in back["reminders"]] == [(60, start - HOUR)]

    await advance_to(env, stack, booking_id, start + HOUR)
    result = await chain(stack, booking_id).result()
    assert [(r["offset_minutes"], at(r["start"])) for r in result["reminders_sent"]] == [
        (1440, start),
        (60, start),
    ]
    rows = await notifications(sessions, stack.tenant_id, f"booking-{booking_id}-rescheduled-")
    assert keys(rows) == {
        f"booking-{booking_id}-rescheduled-{n}-{who}"
        for n in (1, 2)
        for who in ("invitee", "organizer")
    }
    first_notice = next(n for n, _ in rows if n.idempotency_key.endswith("-1-invitee"))
    assert (at(first_notice.context["previous_start"]), at(first_notice.context["start"])) == (
        start,
        later,
    )
    # confirmation, day-before, two reschedules, hour-before; nothing for the in-between start
    await smtp.wait_for(invitee, count=5)
    assert (
        len(await notifications(sessions, stack.tenant_id, f"booking-{booking_id}-reminder-")) == 2
    )


async def test_events_out_of_order_the_latest_state_wins(ts_stack, time_skipping_env, sessions):
    env, stack = time_skipping_env, ts_stack
    booking_id = new_booking_id()
    start = whole_minute(datetime.now(UTC) + 3 * DAY)
    created = datetime.now(UTC)
    first = await send(
        env, stack, booking_event("booking.created", booking_id, start, occurred_at=created)
    )
    newest, older = start + 2 * HOUR, start + HOUR
    applied = await send(
        env,
        stack,
        booking_event("booking.rescheduled", booking_id, newest, occurred_at=created + 2 * MINUTE),
    )
    stale = await send(
        env,
        stack,
        booking_event("booking.rescheduled", booking_id, older, occurred_at=created + MINUTE),
    )
    late_creation = booking_event("booking.created", booking_id, start)
    repeated = await send(env, stack, late_creation)

    # Each event's own answer says what the chain did with it: an ignored reschedule is not a
    # silent 202.
    assert (first["outcome"], applied["outcome"]) == ("applied", "applied")
    assert (first["ignored_reason"], applied["ignored_reason"]) == (None, None)
    assert stale["outcome"] == "ignored"
    assert "older than the last event applied" in stale["ignored_reason"]
    assert (repeated["outcome"], repeated["ignored_reason"]) == (
        "ignored",
        "the booking exists already",
    )
    latest = await eventually(
        lambda: state(stack, booking_id),
        lambda s: len(s["ignored_events"]) == 2,
        what="both ignored",
    )
    assert latest["ignored_events"][1] == f"{late_creation['id']}: the booking exists already"
    assert "older than the last event applied" in latest["ignored_events"][0]
    assert (at(latest["booking"]["start"]), latest["reschedules"], latest["status"]) == (
        newest,
        1,
        "rescheduled",
    )
    rows = await eventually(
        lambda: notifications(sessions, stack.tenant_id, f"booking-{booking_id}-"),
        lambda rows: len(rows) >= 4,
        what="the notices",
    )
    assert len(rows) == 4  # two confirmations and two rescheduled notices

    # What the chain ignored is visible through the API too, to the booking's tenant only.
    shown = await stack.api.get(f"/v1/bookings/{booking_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["ignored_events"] == latest["ignored_events"]
    assert (shown.json()["status"], shown.json()["reschedules"]) == ("rescheduled", 1)
    _, other_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(other_key)
    assert (await other.get(f"/v1/bookings/{booking_id}")).status_code == 404
    assert (await stack.api.get(f"/v1/bookings/{new_booking_id()}")).status_code == 404


async def test_a_long_history_continues_as_new_with_its_state(
    ts_stack, time_skipping_env, sessions
):
    env, stack = time_skipping_env, ts_stack
    booking_id = new_booking_id()
    start = whole_minute(datetime.now(UTC) + 5 * DAY)
    created = datetime.now(UTC)
    body = EventIn.model_validate(
        booking_event("booking.created", booking_id, start, occurred_at=created)
    )
    with env.with_time_skipping_disabled():
        # Started as the API starts it, with a short history limit.
        handle = await stack.client.start_workflow(
            BookingWorkflow.run,
            BookingInput(stack.tenant_id, booking_id, max_history_events=40),
            id=booking_workflow_id(stack.tenant_id, booking_id),
            task_queue=stack.settings.task_queue,
            start_signal="event",
            start_signal_args=[booking_event_of(body, BookingPayload.model_validate(body.data))],
        )
    for n in range(1, 4):
        await send(
            env,
            stack,
            booking_event(
                "booking.rescheduled",
                booking_id,
                start + n * HOUR,
                occurred_at=created + n * MINUTE,
            ),
        )
        await eventually(lambda: state(stack, booking_id), lambda s, n=n: s["reschedules"] == n)

    first_run = stack.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    await eventually(  # once the events stop coming, and the last one's notices are out
        lambda: first_run.describe(),
        lambda d: d.status.name == "CONTINUED_AS_NEW",
        what="continue-as-new",
    )
    latest = await state(stack, booking_id)
    assert at(latest["booking"]["start"]) == start + 3 * HOUR
    assert [at(r["due"]) for r in latest["reminders"]] == [start + 3 * HOUR - DAY, start + 2 * HOUR]
    rows = await notifications(sessions, stack.tenant_id, f"booking-{booking_id}-rescheduled-")
    assert len(rows) == 6  # one invitee and one organizer notice per reschedule, none repeated
