"""BookingWorkflow on a time-skipping Temporal server, driven through POST /v1/events: the whole
chain, a cancellation, a past offset, a DST change (changes to a booking: test_booking_changes.py).

Events are posted with time skipping off, so each chain's virtual clock moves only when a
test fast-forwards it; the notices go through NotificationWorkflow to the SMTP server.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


async def test_whole_chain_confirmation_reminders_follow_up_in_both_zones(
    ts_stack, time_skipping_env, smtp, sessions
):
    env, stack = time_skipping_env, ts_stack
    await stack.api.put(
        "/v1/settings/bookings", json={"follow_up_enabled": True, "follow_up_delay_minutes": 60}
    )
    booking_id, invitee, organizer = new_booking_id(), new_address(), f"org-{new_booking_id()}"
    start = whole_minute(datetime.now(UTC) + 3 * DAY)
    await send(
        env,
        stack,
        booking_event(
            "booking.created", booking_id, start, invitee_email=invitee, organizer_id=organizer
        ),
    )

    confirmed = await eventually(
        lambda: state(stack, booking_id), lambda s: s["next_reminder"] is not None
    )
    assert confirmed["status"] == "confirmed"
    assert [(r["offset_minutes"], at(r["due"])) for r in confirmed["reminders"]] == [
        (1440, start - DAY),
        (60, start - HOUR),
    ]
    [to_invitee] = await smtp.wait_for(invitee)
    [to_organizer] = await smtp.wait_for(f"{organizer}@example.com")
    # Each side reads the other's name, and the start in its own zone.
    assert to_invitee.subject == "Confirmed: Intro call with Ada Organizer"
    assert to_organizer.subject == "Confirmed: Intro call with Grace Guest"
    assert "Hi Grace Guest" in to_invitee.text() and "Hi Ada Organizer" in to_organizer.text()
    assert "(Europe/Berlin)" in to_invitee.text() and "(America/New_York)" in to_organizer.text()

    await advance_to(env, stack, booking_id, start - DAY + MINUTE)
    day_before = (await sent_count(stack, booking_id, 1))["reminders_sent"][0]
    assert abs(at(day_before["sent_at"]) - (start - DAY)) < timedelta(seconds=2)
    # The same wall-clock time a day earlier, in the invitee's zone and in the organizer's.
    for zone in (ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")):
        assert at(day_before["due"]).astimezone(zone).time() == start.astimezone(zone).time()
    await smtp.wait_for(invitee, count=2)

    await advance_to(env, stack, booking_id, start - HOUR + MINUTE)
    hour_before = (await sent_count(stack, booking_id, 2))["reminders_sent"][1]
    assert (hour_before["offset_minutes"], at(hour_before["due"])) == (60, start - HOUR)
    assert abs(at(hour_before["sent_at"]) - (start - HOUR)) < timedelta(seconds=2)

    await advance_to(env, stack, booking_id, start + 30 * MINUTE + HOUR + MINUTE)
    result = await chain(stack, booking_id).result()
    assert result["status"] == "completed" and result["closed"] is True
    await smtp.wait_for(invitee, count=4)
    assert len(smtp.to(f"{organizer}@example.com")) == 1

    rows = await notifications(sessions, stack.tenant_id, f"booking-{booking_id}-")
    by_key = {n.idempotency_key: (n, external_id) for n, external_id in rows}
    stamp = start.strftime("%Y%m%dT%H%M%SZ")
    assert set(by_key) == {
        f"booking-{booking_id}-confirmation-invitee",
        f"booking-{booking_id}-confirmation-organizer",
        f"booking-{booking_id}-reminder-1440-{stamp}",
        f"booking-{booking_id}-reminder-60-{stamp}",
        f"booking-{booking_id}-follow-up",
    }
    reminder, recipient = by_key[f"booking-{booking_id}-reminder-60-{stamp}"]
    assert (reminder.event_key, recipient) == ("booking.reminder", f"email:{invitee}")
    assert reminder.context["start"] == start.isoformat()
    assert reminder.context["invitee_timezone"] == "Europe/Berlin"
    assert reminder.context["organizer_timezone"] == "America/New_York"
    assert reminder.context["owner_id"] == organizer
    assert reminder.context["custom_answers"] == {"Company": "Acme"}
    notice, recipient = by_key[f"booking-{booking_id}-confirmation-organizer"]
    assert (notice.event_key, recipient, notice.context["audience"]) == (
        "booking.confirmation",
        organizer,
        "organizer",
    )
    assert by_key[f"booking-{booking_id}-follow-up"][0].event_key == "booking.follow_up"


async def test_cancel_just_before_a_reminder_sends_the_cancellation_and_no_reminder(
    ts_stack, time_skipping_env, smtp, sessions
):
    env, stack = time_skipping_env, ts_stack
    booking_id, invitee = new_booking_id(), new_address()
    start = whole_minute(datetime.now(UTC) + 2 * DAY)
    await send(
        env, stack, booking_event("booking.created", booking_id, start, invitee_email=invitee)
    )
    await advance_to(env, stack, booking_id, start - DAY - timedelta(seconds=30))
    assert (await state(stack, booking_id))["reminders_sent"] == []

    await send(
        env,
        stack,
        booking_event(
            "booking.cancelled",
            booking_id,
            start,
            invitee_email=invitee,
            cancellation_reason="A conflict came up",
        ),
    )
    result = await chain(stack, booking_id).result()
    assert (result["status"], result["reminders_sent"], result["next_reminder"]) == (
        "cancelled",
        [],
        None,
    )
    assert {r["status"] for r in result["reminders"]} == {"cancelled"}

    rows = await notifications(sessions, stack.tenant_id, f"booking-{booking_id}-")
    assert keys(rows) == {
        f"booking-{booking_id}-{kind}-{who}"
        for kind in ("confirmation", "cancellation")
        for who in ("invitee", "organizer")
    }
    cancellation = next(n for n, _ in rows if n.idempotency_key.endswith("cancellation-invitee"))
    assert (cancellation.event_key, cancellation.context["cancellation_reason"]) == (
        "booking.cancellation",
        "A conflict came up",
    )
    await smtp.wait_for(invitee, count=2)


async def test_an_offset_already_past_is_skipped_not_sent_late(
    ts_stack, time_skipping_env, smtp, sessions
):
    env, stack = time_skipping_env, ts_stack
    booking_id, invitee = new_booking_id(), new_address()
    start = whole_minute(datetime.now(UTC) + 2 * HOUR)
    await send(
        env, stack, booking_event("booking.created", booking_id, start, invitee_email=invitee)
    )
    planned = await eventually(
        lambda: state(stack, booking_id), lambda s: s["next_reminder"] is not None
    )
    assert [(r["offset_minutes"], at(r["due"])) for r in planned["reminders"]] == [
        (60, start - HOUR)
    ]

    await advance_to(env, stack, booking_id, start + HOUR)
    result = await chain(stack, booking_id).result()
    assert [r["offset_minutes"] for r in result["reminders_sent"]] == [60]
    rows = await notifications(sessions, stack.tenant_id, f"booking-{booking_id}-reminder-")
    assert keys(rows) == {f"booking-{booking_id}-reminder-60-{start.strftime('%Y%m%dT%H%M%SZ')}"}


def next_dst_change(zone: ZoneInfo, after: datetime) -> datetime:
    """The first local day after `after` whose UTC offset differs from the day before."""
    day = after.astimezone(zone).replace(hour=12, minute=0, second=0, microsecond=0)
    while (day + DAY).utcoffset() == day.utcoffset():
        day = (day + DAY).replace(tzinfo=zone)
    return (day + DAY).replace(tzinfo=zone)


async def test_a_dst_change_between_booking_and_reminder_keeps_real_minutes(
    ts_stack, time_skipping_env, sessions
):
    env, stack = time_skipping_env, ts_stack
    berlin = ZoneInfo("Europe/Berlin")
    change_day = next_dst_change(berlin, datetime.now(UTC) + 2 * DAY)
    start = change_day.replace(hour=9, minute=0, tzinfo=berlin).astimezone(UTC)
    booking_id = new_booking_id()
    await send(
        env,
        stack,
        booking_event("booking.created", booking_id, start, organizer_tz="Europe/Berlin"),
    )

    await advance_to(env, stack, booking_id, start - DAY + MINUTE)
    reminder = (await sent_count(stack, booking_id, 1))["reminders_sent"][0]
    assert at(reminder["due"]) == start - timedelta(minutes=1440)
    assert abs(at(reminder["sent_at"]) - (start - DAY)) < timedelta(seconds=2)
    # 1440 real minutes across the change: the wall clock reads one hour off 09:00.
    local = at(reminder["sent_at"]).astimezone(berlin)
    assert local.date() == (change_day - DAY).date() and local.hour in (8, 10)
