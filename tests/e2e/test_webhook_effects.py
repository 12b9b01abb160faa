"""What provider events do beyond the delivery: opt-outs, invalid addresses, the workflow told."""

import asyncio
import time
import uuid

import pytest

from db.address_health import invalid_address_reason
from tests.e2e.test_http_providers import (
    TWILIO_MESSAGES,
    sendgrid_accepts,
    twilio_accepts,
    twilio_error,
)
from tests.e2e.webhooks_factory import (
    delivery_row,
    post_sendgrid,
    post_twilio,
    send_email_through_sendgrid,
    send_sms_through_twilio,
    sendgrid_event,
)
from workflows.notification import NotificationWorkflow


def recipient(address: str) -> dict:
    return {"external_id": f"user-{uuid.uuid4().hex[:8]}", "email": address}


async def notify(stack, who: dict, event_key: str = "payment.completed") -> dict:
    body = {
        "recipient": who,
        "event_key": event_key,
        "channels": ["email"],
        "context": {"subject": "Hello", "message": "Hello again."},
    }
    accepted = (await stack.api.post("/v1/notifications", json=body)).json()
    return await stack.wait_for_status(accepted["id"], "sent", "suppressed", "failed")


@pytest.mark.parametrize("kind", ["spamreport", "unsubscribe"])
async def test_spam_report_or_unsubscribe_turns_the_category_off(tracked, httpserver, kind):
    who = recipient(f"{uuid.uuid4().hex[:8]}@example.com")
    delivery = await send_email_through_sendgrid(tracked, httpserver, recipient=who)

    response = await post_sendgrid(tracked, [sendgrid_event(kind, delivery)])

    assert response.json()["applied"] == 1
    prefs = (await tracked.api.get(f"/v1/recipients/{who['external_id']}/preferences")).json()
    assert prefs["rules"] == {"payment": {"email": False}}
    later = await notify(tracked, {"external_id": who["external_id"]})
    assert later["status"] == "suppressed"
    assert later["deliveries"][0]["status_reason"].startswith("rule_disabled")
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_response(
        sendgrid_accepts(uuid.uuid4().hex)
    )
    other_category = await notify(tracked, {"external_id": who["external_id"]}, "account.updated")
    assert other_category["status"] == "sent"  # only the reported category is off


@pytest.mark.parametrize(
    "kind,fields,reason",
    [
        (
            "bounce",
            {"type": "bounce", "reason": "550 5.1.1 no such user"},
            "hard bounce: 550 5.1.1 no such user",
        ),
        ("dropped", {"reason": "Bounced Address"}, "dropped by sendgrid: Bounced Address"),
    ],
)
async def test_hard_bounce_marks_the_address_invalid(
    tracked, httpserver, sessions, kind, fields, reason
):
    address = f"{uuid.uuid4().hex[:8]}@Example.com"
    delivery = await send_email_through_sendgrid(tracked, httpserver, address=address)

    await post_sendgrid(tracked, [sendgrid_event(kind, delivery, **fields)])

    assert (await delivery_row(sessions, delivery)).status in ("bounced", "failed")
    async with sessions() as session:
        assert (
            await invalid_address_reason(session, tracked.tenant_id, "email", address.lower())
            == reason
        )
        assert await invalid_address_reason(session, tracked.tenant_id, "sms", address) is None
        assert await invalid_address_reason(session, uuid.uuid4(), "email", address) is None


async def test_a_blocked_bounce_leaves_the_address_valid(tracked, httpserver, sessions):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    delivery = await send_email_through_sendgrid(tracked, httpserver, address=address)

    await post_sendgrid(
        tracked, [sendgrid_event("bounce", delivery, type="blocked", reason="IP listed")]
    )

    async with sessions() as session:
        assert await invalid_address_reason(session, tracked.tenant_id, "email", address) is None


async def test_twilio_dead_number_is_marked_invalid(tracked, httpserver, sessions):
    delivery = await send_sms_through_twilio(tracked, httpserver)

    await post_twilio(
        tracked,
        {
            "MessageSid": delivery["provider_message_id"],
            "MessageStatus": "undelivered",
            "ErrorCode": "30005",
        },
    )

    async with sessions() as session:
        reason = await invalid_address_reason(
            session, tracked.tenant_id, "sms", delivery["address"]
        )
    assert reason == "twilio error 30005: unknown destination handset"


async def test_a_later_send_to_a_hard_bounced_address_is_suppressed(tracked, httpserver):
    who = recipient(f"{uuid.uuid4().hex[:8]}@example.com")
    delivery = await send_email_through_sendgrid(tracked, httpserver, recipient=who)
    await post_sendgrid(
        tracked, [sendgrid_event("bounce", delivery, type="bounce", reason="550 5.1.1")]
    )

    later = await notify(tracked, {"external_id": who["external_id"]})

    assert later["status"] == "suppressed"
    assert later["deliveries"][0]["status_reason"] == "invalid_address: hard bounce: 550 5.1.1"


async def test_a_running_workflow_is_told_of_the_new_status(tracked, httpserver):
    # The SMS is told to wait 5 s (429 Retry-After), which keeps the workflow running after
    # the email went out: long enough to see the email's webhook reach it.
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_response(
        sendgrid_accepts(uuid.uuid4().hex)
    )
    httpserver.expect_oneshot_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "5"})
    )
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_response(
        twilio_accepts("SM" + uuid.uuid4().hex)
    )
    who = {**recipient(f"{uuid.uuid4().hex[:8]}@example.com"), "phone": "+14155550123"}
    body = {
        "recipient": who,
        "event_key": "booking.reminder",
        "channels": ["email", "sms"],
        "context": {"message": "Soon."},
    }
    accepted = (await tracked.api.post("/v1/notifications", json=body)).json()
    started = time.monotonic()

    async def email() -> dict:
        deliveries = (await tracked.notification(accepted["id"]))["deliveries"]
        return next(
            (d for d in deliveries if d["channel"] == "email"), {"status": "not planned yet"}
        )

    while (sent_email := await email())["status"] != "sent":
        assert time.monotonic() - started < 5, sent_email
        await asyncio.sleep(0.05)
    await post_sendgrid(tracked, [sendgrid_event("delivered", sent_email)])
    state = await tracked.client.get_workflow_handle(accepted["workflow_id"]).query(
        NotificationWorkflow.status
    )

    assert time.monotonic() - started < 5, "too slow to observe the running workflow"
    assert {c.channel: c.status for c in state.channels}["email"] == "delivered"
    final = await tracked.wait_for_status(accepted["id"], "sent", timeout=30)
    assert {d["channel"]: d["status"] for d in final["deliveries"]} == {
        "email": "delivered",
        "sms": "sent",
    }


async def test_an_unsubscribe_reported_on_a_digest_turns_off_what_it_collects(tracked, httpserver):
    """As the digest's own unsubscribe link does: the opt-out is from `payment`, not `digest`."""
    who = recipient(f"{uuid.uuid4().hex[:8]}@example.com")
    delivery = await send_email_through_sendgrid(
        tracked, httpserver, recipient=who, event_key="digest.payment"
    )

    response = await post_sendgrid(tracked, [sendgrid_event("unsubscribe", delivery)])

    assert response.json()["applied"] == 1
    prefs = (await tracked.api.get(f"/v1/recipients/{who['external_id']}/preferences")).json()
    assert prefs["rules"] == {"payment": {"email": False}}
