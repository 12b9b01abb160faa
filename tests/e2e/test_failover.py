"""Provider failover and the circuit breaker: SendGrid failing, SMTP taking over."""

import asyncio
import uuid

from werkzeug import Response

from tests.e2e.test_email_smtp import email_request


def address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


async def test_a_provider_failing_every_try_fails_over_to_the_next(
    failover_stack, httpserver, smtp
):
    httpserver.expect_request("/v3/mail/send").respond_with_data("unavailable", status=500)
    to = address()
    accepted = (await failover_stack.api.post("/v1/notifications", json=email_request(to))).json()

    [mail] = await smtp.wait_for(to)
    assert mail.subject == "Payment received"
    notification = await failover_stack.wait_for_status(accepted["id"], "sent")
    [delivery] = notification["deliveries"]
    assert delivery["provider"] == "smtp"
    [moved] = delivery["failover_log"]
    assert (moved["provider"], moved["moved_to"]) == ("sendgrid", "smtp")
    assert "500" in moved["reason"]
    assert 1 <= len(httpserver.log) <= failover_stack.settings.delivery_max_attempts


async def test_rejected_credentials_fail_over_at_once(failover_stack, httpserver, smtp):
    httpserver.expect_request("/v3/mail/send").respond_with_json(
        {"errors": [{"message": "bad key"}]}, status=401
    )
    to = address()
    accepted = (await failover_stack.api.post("/v1/notifications", json=email_request(to))).json()

    await smtp.wait_for(to)
    notification = await failover_stack.wait_for_status(accepted["id"], "sent")
    assert len(httpserver.log) == 1
    assert "401" in notification["deliveries"][0]["failover_log"][0]["reason"]


async def test_a_refused_recipient_does_not_fail_over(failover_stack, httpserver, smtp):
    httpserver.expect_request("/v3/mail/send").respond_with_json(
        {
            "errors": [
                {
                    "message": "Does not contain a valid address.",
                    "field": "personalizations.0.to.0.email",
                }
            ]
        },
        status=400,
    )
    to = address()
    accepted = (await failover_stack.api.post("/v1/notifications", json=email_request(to))).json()

    notification = await failover_stack.wait_for_status(accepted["id"], "failed")
    assert notification["deliveries"][0]["failover_log"] is None
    assert smtp.to(to) == []


async def test_the_circuit_opens_skips_the_provider_then_closes_after_the_cool_down(
    failover_stack, httpserver, smtp
):
    calls: list[int] = []
    healthy = asyncio.Event()

    def sendgrid(request):
        calls.append(1)
        if healthy.is_set():
            return Response("", status=202, headers={"X-Message-Id": f"sg-{len(calls)}"})
        return Response("down", status=503)

    httpserver.expect_request("/v3/mail/send").respond_with_handler(sendgrid)
    first = address()
    await failover_stack.api.post("/v1/notifications", json=email_request(first))
    await smtp.wait_for(first)
    assert len(calls) == 2  # the threshold: the third try found the circuit open and failed over

    health = await failover_stack.health_details()
    assert health["providers"]["email"]["circuits"]["sendgrid"] == "open"

    second = address()
    accepted = (
        await failover_stack.api.post("/v1/notifications", json=email_request(second))
    ).json()
    await smtp.wait_for(second)
    assert len(calls) == 2  # not called at all while open
    skipped = await failover_stack.wait_for_status(accepted["id"], "sent")
    assert "circuit is open" in skipped["deliveries"][0]["failover_log"][0]["reason"]

    healthy.set()
    await asyncio.sleep(5.1)  # the cool-down: the next send is the half-open trial
    third = address()
    accepted = (
        await failover_stack.api.post("/v1/notifications", json=email_request(third))
    ).json()
    done = await failover_stack.wait_for_status(accepted["id"], "sent")
    assert done["deliveries"][0]["provider"] == "sendgrid"
    assert smtp.to(third) == []
    health = await failover_stack.health_details()
    assert health["providers"]["email"]["circuits"]["sendgrid"] == "closed"
