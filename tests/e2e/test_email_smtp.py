"""API -> NotificationWorkflow -> SMTP server, on a real Temporal server and PostgreSQL."""

import uuid

from tests.conftest import wait_until


def email_request(address: str, **extra) -> dict:
    return {
        "recipient": {
            "external_id": f"user-{uuid.uuid4().hex[:8]}",
            "email": address,
            "name": "Ada",
        },
        "event_key": "payment.completed",
        "channels": ["email"],
        "context": {"subject": "Payment received", "message": "We received 42.00 EUR."},
        **extra,
    }


async def test_email_reaches_the_smtp_server_and_is_recorded(stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    response = await stack.api.post("/v1/notifications", json=email_request(address))
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["Location"] == f"/v1/notifications/{accepted['id']}"

    [mail] = await smtp.wait_for(address)
    assert mail.subject == "Payment received"
    assert "42.00 EUR" in mail.text()

    notification = await stack.wait_for_status(accepted["id"], "sent")
    [delivery] = notification["deliveries"]
    assert delivery["channel"] == "email"
    assert delivery["status"] == "sent"
    assert delivery["provider"] == "smtp"
    assert delivery["provider_message_id"] == mail.message["Message-ID"]
    assert delivery["retry_count"] == 0
    assert delivery["sent_at"] is not None


async def test_transient_smtp_failures_are_retried(stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    smtp.script.extend(["451 4.3.0 Try again later", "421 4.7.0 Too busy"])
    accepted = (await stack.api.post("/v1/notifications", json=email_request(address))).json()

    await smtp.wait_for(address)
    notification = await stack.wait_for_status(accepted["id"], "sent")
    assert notification["deliveries"][0]["retry_count"] == 2


async def test_permanent_smtp_failure_is_not_retried(stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    smtp.refused_addresses[address] = "550 5.1.1 No such user here"
    before = smtp.attempts
    accepted = (await stack.api.post("/v1/notifications", json=email_request(address))).json()

    notification = await stack.wait_for_status(accepted["id"], "failed")
    [delivery] = notification["deliveries"]
    assert delivery["status"] == "failed"
    assert "550" in delivery["error"] and "No such user" in delivery["error"]
    assert (
        delivery["status_reason"] == "PermanentSendError"
    )  # the failure's kind, for the retry job
    assert delivery["failed_at"] is not None
    assert smtp.attempts - before == 1  # exactly one try
    assert smtp.to(address) == []


async def test_transient_failures_stop_at_the_attempt_limit(stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    smtp.refused_addresses[address] = "451 4.3.0 Mailbox busy"
    before = smtp.attempts
    accepted = (await stack.api.post("/v1/notifications", json=email_request(address))).json()

    notification = await stack.wait_for_status(accepted["id"], "failed")
    assert smtp.attempts - before == stack.settings.delivery_max_attempts
    assert "451" in notification["deliveries"][0]["error"]


async def test_same_idempotency_key_sends_once(stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    body = email_request(address)
    headers = {"Idempotency-Key": f"order-{uuid.uuid4()}"}
    first = await stack.api.post("/v1/notifications", json=body, headers=headers)
    second = await stack.api.post("/v1/notifications", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert (first.json()["replayed"], second.json()["replayed"]) == (False, True)

    await stack.wait_for_status(first.json()["id"], "sent")
    third = await stack.api.post(
        "/v1/notifications", json=body, headers=headers
    )  # after completion
    assert third.json()["id"] == first.json()["id"]
    await smtp.wait_for(address)
    await wait_until(lambda: True)
    assert len(smtp.to(address)) == 1


async def test_same_key_for_a_different_request_is_a_conflict_that_writes_nothing(stack, smtp):
    headers = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = email_request("a@example.com")
    first = await stack.api.post("/v1/notifications", json=body, headers=headers)
    changed_contact = {
        **body,
        "recipient": {**body["recipient"], "email": "b@example.com", "name": "Bob"},
    }
    new_recipient = email_request("c@example.com")
    conflicts = [
        await stack.api.post("/v1/notifications", json=request, headers=headers)
        for request in (changed_contact, new_recipient)
    ]
    assert first.status_code == 202
    assert [c.status_code for c in conflicts] == [409, 409]
    assert "Idempotency-Key" in conflicts[0].json()["detail"]
    # Neither the known recipient's details nor a new recipient were written.
    known = (await stack.api.get(f"/v1/recipients/{body['recipient']['external_id']}")).json()
    assert (known["email"], known["name"]) == ("a@example.com", "Ada")
    unknown = await stack.api.get(f"/v1/recipients/{new_recipient['recipient']['external_id']}")
    assert unknown.status_code == 404
