"""GET /v1/scheduled with both kinds, and cancel / reschedule for each, on a time-skipping
server."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.bookings_factory import (
    booking_event,
    chain,
    eventually,
    new_address,
    new_booking_id,
    post_event,
    state,
)
from tests.e2e.test_email_smtp import email_request

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


async def scheduled(stack) -> list[dict]:
    response = await stack.api.get("/v1/scheduled")
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_reminders_are_listed_cancelled_and_moved(ts_stack, time_skipping_env, smtp):
    env, stack = time_skipping_env, ts_stack
    booking_id, invitee = new_booking_id(), new_address()
    start = (datetime.now(UTC) + 3 * DAY).replace(second=0, microsecond=0)
    with env.with_time_skipping_disabled():
        await post_event(
            stack, booking_event("booking.created", booking_id, start, invitee_email=invitee)
        )
    await eventually(
        lambda: scheduled(stack),
        lambda items: len([i for i in items if i["booking_id"] == booking_id]) == 2,
    )
    day_before, hour_before = [i for i in await scheduled(stack) if i["booking_id"] == booking_id]
    assert (day_before["kind"], day_before["offset_minutes"], day_before["recipient"]) == (
        "booking_reminder",
        1440,
        invitee,
    )
    assert datetime.fromisoformat(hour_before["due_at"]) == start - HOUR

    cancelled = await stack.api.post(f"/v1/scheduled/{day_before['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert [i["id"] for i in await scheduled(stack) if i["booking_id"] == booking_id] == [
        hour_before["id"]
    ]
    again = await stack.api.post(f"/v1/scheduled/{day_before['id']}/cancel")
    assert again.status_code == 409

    earlier = start - 3 * HOUR
    moved = await stack.api.post(
        f"/v1/scheduled/{hour_before['id']}/reschedule", json={"send_at": earlier.isoformat()}
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["due_at"]) == earlier
    after_start = await stack.api.post(
        f"/v1/scheduled/{hour_before['id']}/reschedule",
        json={"send_at": (start + HOUR).isoformat()},
    )
    assert after_start.status_code == 409 and "before the booking starts" in after_start.text

    handle = chain(stack, booking_id)
    await env.fast_forward(handle, earlier + MINUTE - await env.get_current_time(handle))
    sent = await eventually(
        lambda: state(stack, booking_id), lambda s: len(s["reminders_sent"]) == 1
    )
    assert datetime.fromisoformat(sent["reminders_sent"][0]["sent_at"]) - earlier < timedelta(
        seconds=2
    )
    assert sent["cancelled_offsets"] == [1440]
    await smtp.wait_for(
        invitee, count=2
    )  # the confirmation and the moved reminder, not the cancelled one


async def test_a_notification_is_rescheduled_as_a_cancelled_original_and_a_new_copy(
    ts_stack, time_skipping_env, smtp
):
    stack = ts_stack
    address = new_address()
    send_at = datetime.now(UTC) + 2 * DAY
    accepted = (
        await stack.api.post(
            "/v1/notifications", json=email_request(address, send_at=send_at.isoformat())
        )
    ).json()
    await stack.wait_for_status(accepted["id"], "scheduled")
    listed = [i for i in await scheduled(stack) if i["id"] == accepted["id"]]
    assert (
        listed[0]["kind"] == "notification"
        and datetime.fromisoformat(listed[0]["due_at"]) == send_at
    )

    later = send_at + DAY
    response = await stack.api.post(
        f"/v1/scheduled/{accepted['id']}/reschedule", json={"send_at": later.isoformat()}
    )
    assert response.status_code == 200, response.text
    copy_id = response.json()["replaced_by"]
    assert (await stack.wait_for_status(accepted["id"], "cancelled"))["status"] == "cancelled"
    copy = await stack.wait_for_status(copy_id, "scheduled")
    assert (
        datetime.fromisoformat(copy["send_at"]) == later
        and copy["context"] == email_request(address)["context"]
    )
    retried = await stack.api.post(
        f"/v1/scheduled/{accepted['id']}/reschedule", json={"send_at": later.isoformat()}
    )
    assert retried.json()["replaced_by"] == copy_id  # a retried request makes no second copy

    cancelled = await stack.api.post(f"/v1/scheduled/{copy_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [i for i in await scheduled(stack) if i["id"] in (accepted["id"], copy_id)] == []
    past = await stack.api.post(
        f"/v1/scheduled/{copy_id}/reschedule", json={"send_at": "2020-01-01T00:00:00Z"}
    )
    assert past.status_code == 422 and "send_at" in past.text
    assert (await stack.api.post(f"/v1/scheduled/{new_booking_id()}/cancel")).status_code == 422
    unknown = await stack.api.post(f"/v1/scheduled/{uuid.uuid4()}/cancel")
    assert unknown.status_code == 404
