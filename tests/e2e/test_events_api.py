"""POST /v1/events on a real Temporal dev server: validation, duplicates, out-of-order events,
payments, and a booking a few seconds ahead followed all the way to the SMTP server."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from api.app import create_app
from bootstrap import build_worker
from temporal_clients.bookings import VERDICT_WAIT_SECONDS
from tests.e2e.bookings_factory import (
    booking_event,
    chain,
    eventually,
    keys,
    new_address,
    new_booking_id,
    notifications,
    post_event,
    state,
)
from tests.utils.serving import serving

SECOND = timedelta(seconds=1)


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_a_booking_seconds_ahead_ends_at_the_smtp_server(stack, smtp, sessions):
    await stack.api.put(
        "/v1/settings/bookings", json={"follow_up_enabled": True, "follow_up_delay_minutes": 0}
    )
    booking_id, invitee, organizer = new_booking_id(), new_address(), f"org-{new_booking_id()}"
    began, start = time.monotonic(), soon(6)
    # A reminder 0.05 minutes (3 s) before a start 6 s away, and an end 3 s after the start.
    body = booking_event(
        "booking.created",
        booking_id,
        start,
        invitee_email=invitee,
        organizer_id=organizer,
        reminder_minutes_before=[0.05],
    )
    body["data"]["end"] = (start + 3 * SECOND).isoformat()
    accepted = await post_event(stack, body)
    assert (
        accepted["workflow_id"] == f"booking-{stack.tenant_id}-{booking_id}"
        and accepted["duplicate"] is False
    )

    _confirmation, reminder, follow_up = await smtp.wait_for(invitee, count=3, timeout=30)
    assert reminder.received_at - began >= 3 - 0.5  # not before it was due
    assert follow_up.received_at - began >= 9 - 0.5  # after the end
    await smtp.wait_for(f"{organizer}@example.com")
    result = await chain(stack, booking_id).result()
    assert (result["status"], [r["offset_minutes"] for r in result["reminders_sent"]]) == (
        "completed",
        [0.05],
    )
    rows = await eventually(
        lambda: notifications(sessions, stack.tenant_id, f"booking-{booking_id}-"),
        lambda rows: {n.status for n, _ in rows} == {"sent"},
        what="every notice sent",
    )
    assert {n.event_key for n, _ in rows} == {
        "booking.confirmation",
        "booking.reminder",
        "booking.follow_up",
    }

    query = f"HeraldBookingId = '{booking_id}' AND HeraldOrganizer = '{organizer}'"
    found = await eventually(
        lambda: _workflow_ids(stack, query),
        lambda ids: ids == [accepted["workflow_id"]],
        what="search attributes",
    )
    assert found == [accepted["workflow_id"]]


async def _workflow_ids(stack, query: str) -> list[str]:
    return [w.id async for w in stack.client.list_workflows(query)]


async def test_invalid_payloads_are_422s_naming_the_field_and_store_nothing(stack):
    start = soon(3600)
    cases = {
        "data.end": {"end": (start - SECOND).isoformat()},
        "data.start": {"start": "2026-12-01T09:00:00"},
        "data.invitee.timezone": {"invitee": {"email": "a@example.com", "timezone": "Mars/Base"}},
        "data.invitee": {"invitee": {"name": "No Address"}},
        "data.organizer.id": {"organizer": {"email": "o@example.com"}},
        "data.meeting_link": {"meeting_link": "ftp://example.com"},
        "data.reminder_minutes_before.0": {"reminder_minutes_before": [-5]},
    }
    for field, change in cases.items():
        body = booking_event("booking.created", new_booking_id(), start)
        body["data"].update(change)
        response = await stack.api.post("/v1/events", json=body)
        assert response.status_code == 422, (field, response.text)
        assert field in [f["field"] for f in response.json()["errors"]], (
            field,
            response.text,
        )
        fixed = booking_event(
            "booking.created", body["data"]["booking_id"], start, event_id=body["id"]
        )
        assert (await post_event(stack, fixed))[
            "duplicate"
        ] is False  # the refused one left no trace
    bad_type = await stack.api.post(
        "/v1/events", json={**booking_event("booking.created", "x", start), "type": "booking.moved"}
    )
    assert bad_type.status_code == 422 and "type" in bad_type.text


async def test_the_same_event_twice_is_accepted_once(stack, sessions):
    booking_id = new_booking_id()
    body = booking_event("booking.created", booking_id, soon(86400))
    first = await stack.api.post("/v1/events", json=body)
    second = await stack.api.post("/v1/events", json=body)
    assert (first.status_code, second.status_code) == (202, 200)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    changed = {**body, "data": {**body["data"], "event_name": "Another name"}}
    conflict = await stack.api.post("/v1/events", json=changed)
    assert conflict.status_code == 409 and conflict.json()["errors"][0]["field"] == "id"

    rows = await eventually(
        lambda: notifications(sessions, stack.tenant_id, f"booking-{booking_id}-"),
        lambda rows: len(rows) >= 2,
        what="the confirmations",
    )
    await asyncio.sleep(0.5)  # a second chain or a second signal would have added more by now
    rows = await notifications(sessions, stack.tenant_id, f"booking-{booking_id}-")
    assert keys(rows) == {
        f"booking-{booking_id}-confirmation-invitee",
        f"booking-{booking_id}-confirmation-organizer",
    }
    assert (await state(stack, booking_id))["applied_event_ids"] == [body["id"]]


async def test_events_before_created_are_refused_until_it_arrives_and_after_the_end(stack):
    booking_id, start = new_booking_id(), soon(86400)
    moved = booking_event("booking.rescheduled", booking_id, start + timedelta(hours=1))
    early = await stack.api.post("/v1/events", json=moved)
    assert early.status_code == 409
    assert early.json()["detail"] == f"booking {booking_id} unknown: send booking.created first"
    cancelled = await stack.api.post(
        "/v1/events", json=booking_event("booking.cancelled", booking_id, start)
    )
    assert cancelled.status_code == 409

    await post_event(
        stack, booking_event("booking.created", booking_id, start, occurred_at=soon(-60))
    )
    assert (await post_event(stack, moved))[
        "duplicate"
    ] is False  # the sender's retry now goes through
    await eventually(lambda: state(stack, booking_id), lambda s: s["status"] == "rescheduled")

    await post_event(stack, booking_event("booking.cancelled", booking_id, start))
    assert (await chain(stack, booking_id).result())["status"] == "cancelled"
    late = await stack.api.post(
        "/v1/events", json=booking_event("booking.rescheduled", booking_id, start)
    )
    assert late.status_code == 410 and "has ended" in late.text
    recreated = await stack.api.post(
        "/v1/events", json=booking_event("booking.created", booking_id, start)
    )
    assert recreated.status_code == 410


async def test_payment_events_notify_the_payer_once(stack, smtp, sessions):
    address = new_address()
    body: dict[str, Any] = {
        "id": f"evt-{new_booking_id()}",
        "type": "payment.completed",
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "payment_id": "pay_3KfP9",
            "customer": {"id": f"cus-{new_booking_id()}", "name": "Ana", "email": address},
            "amount": "49.00",
            "currency": "USD",
            "receipt_url": "https://pay.example.com/r/pay_3KfP9",
        },
    }
    accepted = await post_event(stack, body)
    notification = await stack.wait_for_status(accepted["notification_id"], "sent")
    assert notification["event_key"] == "payment.completed"
    assert notification["recipient"] == body["data"]["customer"]["id"]
    assert notification["context"] == {
        "payment_id": "pay_3KfP9",
        "amount": "49.00",
        "currency": "USD",
        "receipt_url": "https://pay.example.com/r/pay_3KfP9",
        "customer_name": "Ana",
        "customer_email": address,
    }
    assert (await post_event(stack, body, expect=200))["duplicate"] is True
    await smtp.wait_for(address)
    await asyncio.sleep(0.5)
    assert len(smtp.to(address)) == 1

    failed = {
        **body,
        "id": f"evt-{new_booking_id()}",
        "type": "payment.failed",
        "data": {**body["data"], "currency": "usd"},
    }
    response = await stack.api.post("/v1/events", json=failed)
    assert response.status_code == 422 and "data.currency" in response.text


async def test_an_event_from_the_future_is_refused_and_writes_nothing(stack):
    """A chain applies only events newer than its last: one dated ahead would make it ignore
    every real event after it. Past the allowed clock skew it is refused, naming the field."""
    booking_id, start = new_booking_id(), soon(86400)
    ahead = booking_event("booking.created", booking_id, start, occurred_at=soon(3600))
    refused = await stack.api.post("/v1/events", json=ahead)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["errors"]
    assert problem["field"] == "occurred_at" and "ahead of the server's clock" in problem["problem"]

    # Nothing was recorded: the same event id, dated now, is a new event, not a duplicate.
    now = booking_event(
        "booking.created", booking_id, start, occurred_at=soon(0), event_id=ahead["id"]
    )
    assert (await post_event(stack, now))["duplicate"] is False
    # A little skew (a sender's clock a minute ahead) is accepted.
    skewed = booking_event("booking.rescheduled", booking_id, start, occurred_at=soon(60))
    assert (await post_event(stack, skewed))["duplicate"] is False


async def test_with_no_worker_up_an_event_is_answered_queued_and_applied_later(
    stack, temporal_env, sessions
):
    """The verdict waits a moment for the chain, never for a worker that is down: the event is
    durable once answered, and the chain applies it when a worker comes."""
    settings = stack.settings.model_copy(update={"task_queue": f"no-worker-{uuid.uuid4()}"})
    app = create_app(settings, temporal=temporal_env.client)
    booking_id = new_booking_id()
    created = booking_event("booking.created", booking_id, soon(86400))
    async with serving(app, stack.api_key) as api:
        started = time.monotonic()
        answer = await api.post("/v1/events", json=created)
        waited = time.monotonic() - started
    assert answer.status_code == 202, answer.text
    assert (answer.json()["outcome"], answer.json()["ignored_reason"]) == ("queued", None)
    assert waited < VERDICT_WAIT_SECONDS + 3  # the bounded wait, plus the start itself

    await applied_once_a_worker_comes(stack, temporal_env, settings, sessions, created)


async def test_prefer_respond_async_answers_without_waiting_for_the_chain(
    stack, temporal_env, sessions
):
    """`Prefer: respond-async` (RFC 7240): the answer comes once the event is durably the
    chain's, `queued`, never waiting for the verdict; the chain applies it all the same. With no
    worker up, the default answer waits out VERDICT_WAIT_SECONDS; this one does not."""
    settings = stack.settings.model_copy(update={"task_queue": f"no-worker-{uuid.uuid4()}"})
    app = create_app(settings, temporal=temporal_env.client)
    waiting_id, async_id = new_booking_id(), new_booking_id()
    waiting = booking_event("booking.created", waiting_id, soon(86400))
    created = booking_event("booking.created", async_id, soon(86400))
    async with serving(app, stack.api_key) as api:
        assert (await api.get("/v1/health")).status_code == 200  # warm: the first connections
        started = time.monotonic()
        answer = await api.post(
            "/v1/events", json=created, headers={"Prefer": "wait=10, RESPOND-ASYNC; x=1"}
        )
        waited = time.monotonic() - started
        duplicate = await api.post("/v1/events", json=created, headers={"Prefer": "respond-async"})
        started = time.monotonic()
        default = await api.post("/v1/events", json=waiting)
        waited_by_default = time.monotonic() - started
    assert answer.status_code == 202, answer.text
    assert answer.headers["Preference-Applied"] == "respond-async"
    assert (answer.json()["outcome"], answer.json()["duplicate"]) == ("queued", False)
    # No worker runs the chain: waiting for its verdict would have taken the whole wait.
    assert waited < VERDICT_WAIT_SECONDS
    assert duplicate.status_code == 200 and "Preference-Applied" not in duplicate.headers
    assert default.status_code == 202 and "Preference-Applied" not in default.headers
    assert waited_by_default >= VERDICT_WAIT_SECONDS

    await applied_once_a_worker_comes(stack, temporal_env, settings, sessions, created)


async def applied_once_a_worker_comes(stack, temporal_env, settings, sessions, created) -> None:
    """A worker on `settings`' task queue comes up, and the chain applies `created`."""
    booking_id = created["data"]["booking_id"]
    async with build_worker(temporal_env.client, settings, sessions):
        confirmed = await eventually(
            lambda: state(stack, booking_id),
            lambda s: s["status"] == "confirmed",
            what="the chain applied the event answered queued",
        )
    assert confirmed["applied_event_ids"] == [created["id"]]
