"""Send-time rendering through the whole stack: which template, its version, failures, defaults."""

import uuid

from activities.content import as_content
from domain.templating import RenderedEmail


async def create_template(stack, **fields) -> dict:
    body = {
        "name": f"t-{uuid.uuid4().hex[:6]}",
        "event_key": "booking.confirmation",
        "channel": "email",
        "html_body": "<p>{{ event_name }}</p>",
        "is_default": True,
        **fields,
    }
    response = await stack.api.post("/v1/templates", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def send(
    stack, address: str, context: dict, event_key="booking.confirmation", **recipient
) -> str:
    body = {
        "recipient": {"email": address, "name": "Ana", **recipient},
        "event_key": event_key,
        "channels": ["email"],
        "context": {"event_name": "Intro call", **context},
    }
    response = await stack.api.post("/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def new_address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


async def test_the_owners_template_wins_and_its_version_is_recorded(stack, smtp):
    tenant_wide = await create_template(stack, subject="Tenant: {{ event_name }}")
    owners = await create_template(
        stack, subject="Jordan: {{ event_name }} for {{ recipient_name }}", owner_id="jordan"
    )
    await create_template(stack, subject="Someone else", owner_id="sam")

    cases = [
        ({"owner_id": "jordan"}, "Jordan: Intro call for Ana", owners),
        ({"owner_id": "nobody"}, "Tenant: Intro call", tenant_wide),
        ({}, "Tenant: Intro call", tenant_wide),
    ]
    for context, subject, template in cases:
        address = new_address()
        notification_id = await send(stack, address, context)
        [mail] = await smtp.wait_for(address)
        assert mail.subject == subject
        notification = await stack.wait_for_status(notification_id, "sent")
        assert (
            notification["deliveries"][0]["template_version_id"] == template["current_version_id"]
        )


async def test_an_update_is_used_by_the_next_send(stack, smtp):
    template = await create_template(stack, subject="First")
    address = new_address()
    await send(stack, address, {})
    await smtp.wait_for(address)
    updated = (
        await stack.api.put(f"/v1/templates/{template['id']}", json={"subject": "Second"})
    ).json()

    notification_id = await send(stack, address, {})
    mails = await smtp.wait_for(address, count=2)
    assert [m.subject for m in mails] == ["First", "Second"]
    notification = await stack.wait_for_status(notification_id, "sent")
    assert notification["deliveries"][0]["template_version_id"] == updated["current_version_id"]


async def test_missing_required_placeholders_fail_once_naming_them(stack, smtp):
    await create_template(
        stack,
        subject="Your code",
        html_body="<p>{{ door_code }} {{ room }}</p>",
        required_placeholders=["door_code", "room"],
    )
    address = new_address()
    before = smtp.attempts
    notification_id = await send(stack, address, {"room": "  "})

    notification = await stack.wait_for_status(notification_id, "failed")
    [delivery] = notification["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["error"] == "missing required placeholders: door_code, room"
    assert delivery["retry_count"] == 0 and delivery["failed_at"] is not None
    assert smtp.attempts == before and smtp.to(address) == []


async def test_locale_falls_back_from_region_to_language_to_english(stack, smtp):
    await create_template(stack, subject="English", locale="en")
    await create_template(stack, subject="Português", locale="pt")
    await create_template(stack, subject="Deutsch", locale="de-AT", is_default=False)

    for locale, subject in [
        ("pt-BR", "Português"),
        ("fr", "English"),
        ("de-AT", "Deutsch"),
        ("de", "English"),
    ]:
        address = new_address()
        await send(stack, address, {}, locale=locale)
        [mail] = await smtp.wait_for(address)
        assert mail.subject == subject, locale


async def test_inactive_and_deleted_templates_are_skipped(stack, smtp):
    await create_template(stack, subject="Inactive", is_active=False)
    deleted = await create_template(stack, subject="Deleted", owner_id="jordan")
    await stack.api.delete(f"/v1/templates/{deleted['id']}")

    address = new_address()
    await send(stack, address, {"owner_id": "jordan", "organizer_name": "Jordan"})
    [mail] = await smtp.wait_for(address)
    assert mail.subject == "Confirmed: Intro call with Jordan"  # Herald's shipped default


async def test_shipped_defaults_for_a_tenant_without_templates(stack, smtp):
    booking = {
        "organizer_name": "Jordan Lee",
        "meeting_link": "https://meet.example.com/j/1",
        "reschedule_url": "https://book.example.com/r/1",
        "cancel_url": "https://book.example.com/c/1",
        "start": "2025-06-02T14:00:00Z",
        "end": "2025-06-02T14:45:00Z",
        "organizer_timezone": "America/New_York",
    }
    address = new_address()
    notification_id = await send(stack, address, booking, timezone="Europe/Berlin")
    [mail] = await smtp.wait_for(address)
    assert mail.subject == "Confirmed: Intro call with Jordan Lee"
    for part in (mail.text(), mail.html()):
        assert "https://meet.example.com/j/1" in part and "https://book.example.com/r/1" in part
        assert (
            "Monday, June 2, 2025, 4:00 PM" in part and "45 minutes" in part
        )  # the recipient's zone
        assert "10:00 AM" not in part  # not the organizer's
    notification = await stack.wait_for_status(notification_id, "sent")
    assert notification["deliveries"][0]["template_version_id"] is None

    address = new_address()
    payment = {
        "amount": "49.00",
        "currency": "EUR",
        "payment_id": "pay_1",
        "customer_name": "Ana",
        "receipt_url": "https://pay.example.com/r/1",
    }
    await send(stack, address, payment, event_key="payment.completed")
    [mail] = await smtp.wait_for(address)
    assert mail.subject == "Payment received: 49.00 EUR"
    assert "https://pay.example.com/r/1" in mail.text()


async def test_a_tenant_layout_wraps_sent_emails(stack, smtp):
    layout = "<html><body><div>ACME BRAND</div>{{ content }}</body></html>"
    assert (await stack.api.put("/v1/templates/layout", json={"html": layout})).status_code == 200
    address = new_address()
    await send(stack, address, {"message": "Hello there", "subject": "Hi"}, event_key="custom.note")
    [mail] = await smtp.wait_for(address)
    assert "ACME BRAND" in mail.html() and "Hello there" in mail.html()


def test_unsubscribe_url_becomes_a_list_unsubscribe_header_and_tests_are_marked():
    email = RenderedEmail(subject="Hi", html="<p>Hi</p>", text="Hi")
    assert as_content(email, {}).headers == {}
    content = as_content(email, {"unsubscribe_url": "https://x.example/u/1", "_test": True})
    assert content.headers == {
        "List-Unsubscribe": "<https://x.example/u/1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert content.subject == "[TEST] Hi"
