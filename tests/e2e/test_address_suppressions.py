"""Unsubscribe follows the address: once an address unsubscribes from a category through one
recipient, no recipient of the tenant with that address gets the category on that channel;
opting back in through the preferences API lifts it; other tenants are not affected."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from db.models import Recipient
from domain.unsubscribe import Unsubscribe, sign
from tests.conftest import new_tenant
from tests.e2e.test_resend import failed_delivery
from tests.e2e.webhooks_factory import post_sendgrid, send_email_through_sendgrid, sendgrid_event


def new_id() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def recipient(api, email: str, phone: str | None = None) -> str:
    external_id = new_id()
    response = await api.put(f"/v1/recipients/{external_id}", json={"email": email, "phone": phone})
    assert response.status_code == 200, response.text
    return external_id


async def unsubscribe(stack, sessions, external_id: str, category: str, channel: str = "email"):
    async with sessions() as session:
        recipient_id = await session.scalar(
            select(Recipient.id).where(
                Recipient.tenant_id == stack.tenant_id, Recipient.external_id == external_id
            )
        )
    token = sign(
        stack.settings.signing_key(),
        Unsubscribe(str(stack.tenant_id), str(recipient_id), category, channel),
    )
    response = await stack.api.post(
        f"/v1/unsubscribe/{token}",
        headers={"Authorization": ""},
        data={"List-Unsubscribe": "One-Click"},
    )
    assert response.status_code == 200, response.text


async def send(stack, external_id: str, event_key: str, channel: str = "email", api=None) -> str:
    response = await (api or stack.api).post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id},
            "event_key": event_key,
            "channels": [channel],
            "context": {"subject": "Hello", "message": "Hello"},
        },
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


async def outcome(stack, notification_id: str) -> tuple[str, str | None]:
    done = await stack.wait_for_status(notification_id, "sent", "delivered", "suppressed", "failed")
    [delivery] = done["deliveries"]
    return delivery["status"], delivery["status_reason"]


async def test_an_unsubscribe_through_one_recipient_holds_for_every_recipient_of_the_address(
    stack, sessions, smtp
):
    address = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    # The same address however it is spelt: trimmed and case-insensitive.
    ada = await recipient(stack.api, address, phone="+14155550123")
    other = await recipient(
        stack.api, f"  {address.upper()} ".replace("@EXAMPLE.COM", "@example.com")
    )
    await unsubscribe(stack, sessions, ada, "booking")

    status, reason = await outcome(stack, await send(stack, other, "booking.reminder"))
    assert status == "suppressed"
    assert reason == "unsubscribed: the recipient's email address is unsubscribed from booking"
    # The other recipient's preferences say so, beside their own rules (which are untouched).
    prefs = (await stack.api.get(f"/v1/recipients/{other}/preferences")).json()
    assert prefs["unsubscribed"] == [{"channel": "email", "category": "booking"}]
    assert prefs["rules"] == {}
    # Other categories still go by email; the category still goes by SMS.
    assert (await outcome(stack, await send(stack, other, "payment.receipt")))[0] == "sent"
    assert (await outcome(stack, await send(stack, ada, "booking.reminder", "sms")))[0] == "sent"

    # The other recipient opts back in through the preferences API: the address is lifted.
    response = await stack.api.patch(
        f"/v1/recipients/{other}/preferences", json={"rules": {"booking": {"email": True}}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["unsubscribed"] == []
    assert (await outcome(stack, await send(stack, other, "booking.reminder")))[0] == "sent"
    # The recipient who clicked keeps their own opt-out.
    status, reason = await outcome(stack, await send(stack, ada, "booking.reminder"))
    assert status == "suppressed" and str(reason).startswith("rule_disabled:")


async def test_a_waiting_notification_of_the_address_is_suppressed_when_it_wakes(stack, sessions):
    address = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    ada, other = await recipient(stack.api, address), await recipient(stack.api, address)
    # Quiet hours from an hour ago to two hours ahead for the other recipient: the notification
    # waits (a fixed window such as 00:00-23:59 would not, in the minute it leaves out).
    now = datetime.now(UTC)
    quiet = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=2)).strftime("%H:%M"),
    }
    response = await stack.api.put(
        f"/v1/recipients/{other}/preferences",
        json={"dnd": {"enabled": True, **quiet}, "timezone": "UTC"},
    )
    assert response.status_code == 200
    waiting = await send(stack, other, "booking.reminder")
    await stack.wait_for_status(waiting, "deferred")
    await unsubscribe(stack, sessions, ada, "booking")
    # Lifting the quiet hours wakes it; it decides again and the address is unsubscribed.
    await stack.api.patch(f"/v1/recipients/{other}/preferences", json={"dnd": None})
    status, reason = await outcome(stack, waiting)
    assert status == "suppressed" and str(reason).startswith("unsubscribed:")


async def test_internationalised_domains_are_one_address(stack, sessions):
    ada = await recipient(stack.api, f"ada-{uuid.uuid4().hex[:4]}@xn--bcher-kva.de")
    local = (await stack.api.get(f"/v1/recipients/{ada}")).json()["email"].split("@")[0]
    other = await recipient(stack.api, f"{local.upper()}@BÜCHER.de")
    await unsubscribe(stack, sessions, ada, "booking")
    status, _ = await outcome(stack, await send(stack, other, "booking.reminder"))
    assert status == "suppressed"


async def test_other_tenants_are_not_affected(stack, sessions):
    address = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    ada = await recipient(stack.api, address)
    await unsubscribe(stack, sessions, ada, "booking")
    _, other_key = await new_tenant(sessions, "Other")
    async with await stack.as_tenant(other_key) as other_api:
        theirs = await recipient(other_api, address)
        notification_id = await send(stack, theirs, "booking.reminder", api=other_api)
        done = await stack.notification(notification_id, key=other_key)
        for _ in range(200):
            if done["status"] in ("sent", "delivered", "suppressed", "failed"):
                break
            await asyncio.sleep(0.1)
            done = await stack.notification(notification_id, key=other_key)
        assert done["deliveries"][0]["status"] in ("sent", "delivered"), done


async def test_a_providers_unsubscribe_report_follows_the_address_too(tracked, httpserver):
    address = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    ada = {"external_id": new_id(), "email": address}
    delivery = await send_email_through_sendgrid(tracked, httpserver, recipient=ada)
    response = await post_sendgrid(tracked, [sendgrid_event("unsubscribe", delivery)])
    assert response.json()["applied"] == 1

    other = await recipient(tracked.api, address)
    status, reason = await outcome(tracked, await send(tracked, other, "payment.completed"))
    assert status == "suppressed" and str(reason).startswith("unsubscribed:")


async def test_an_unsubscribe_and_a_preferences_change_at_once_both_hold(stack, sessions):
    for _ in range(15):
        ada = await recipient(stack.api, f"ada-{uuid.uuid4().hex[:6]}@example.com")
        path = f"/v1/recipients/{ada}/preferences"
        _, changed = await asyncio.gather(
            unsubscribe(stack, sessions, ada, "booking"),
            stack.api.patch(path, json={"timezone": "Europe/Paris"}),
        )
        assert changed.status_code == 200, changed.text
        prefs = (await stack.api.get(path)).json()
        assert (prefs["rules"], prefs["timezone"]) == (
            {"booking": {"email": False}},
            "Europe/Paris",
        )


async def test_a_failed_delivery_to_an_unsubscribed_address_is_not_resent(stack, sessions, smtp):
    notification, address = await failed_delivery(stack, smtp)  # a payment.completed email
    other = await recipient(stack.api, address.upper())
    await unsubscribe(stack, sessions, other, "payment")
    [failed] = notification["deliveries"]
    response = await stack.api.post(f"/v1/deliveries/{failed['id']}/resend")
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "address_unsubscribed"
    assert "unsubscribed from payment" in response.json()["detail"]
