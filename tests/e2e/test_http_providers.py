"""SendGrid and Twilio through their real SDKs, pointed at a local HTTP server that can fail on
demand."""

import json
import time
import uuid

import pytest
from werkzeug import Response

from tests.e2e.test_email_smtp import email_request

SID = "AC" + "0" * 32
TWILIO_MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
async def sendgrid_stack(make_stack, temporal_env, httpserver):
    async with make_stack(
        temporal_env,
        sendgrid_api_key="SG.test-key",
        sendgrid_base_url=httpserver.url_for("").rstrip("/"),
    ) as stack:
        yield stack


@pytest.fixture
async def twilio_stack(make_stack, temporal_env, httpserver):
    async with make_stack(
        temporal_env,
        twilio_account_sid=SID,
        twilio_auth_token="secret-token",
        twilio_from_number="+15005550006",
        twilio_base_url=httpserver.url_for("").rstrip("/"),
    ) as stack:
        yield stack


def sendgrid_accepts(message_id: str = "sg-message-1"):
    return Response("", status=202, headers={"X-Message-Id": message_id})


def twilio_accepts(sid: str = "SM" + "1" * 32):
    body = {"sid": sid, "status": "queued", "num_segments": "1", "to": "+14155550123", "body": "x"}
    return Response(json.dumps(body), status=201, content_type="application/json")


def twilio_error(status: int, code: int, message: str, headers: dict | None = None):
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(
        json.dumps(body), status=status, content_type="application/json", headers=headers
    )


async def test_sendgrid_send_records_the_message_id(sendgrid_stack, httpserver):
    httpserver.expect_ordered_request("/v3/mail/send", method="POST").respond_with_response(
        sendgrid_accepts("sg-42")
    )
    accepted = (
        await sendgrid_stack.api.post("/v1/notifications", json=email_request("ada@example.com"))
    ).json()

    notification = await sendgrid_stack.wait_for_status(accepted["id"], "sent")
    [delivery] = notification["deliveries"]
    assert (delivery["provider"], delivery["provider_message_id"]) == ("sendgrid", "sg-42")
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    payload = request.get_json()
    assert payload["personalizations"][0]["to"][0]["email"] == "ada@example.com"
    assert payload["subject"] == "Payment received"
    assert payload["custom_args"]["herald_delivery_id"] == delivery["id"]


async def test_sendgrid_5xx_is_retried_then_succeeds(sendgrid_stack, httpserver):
    for _ in range(2):
        httpserver.expect_ordered_request("/v3/mail/send").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/v3/mail/send").respond_with_response(sendgrid_accepts())
    accepted = (
        await sendgrid_stack.api.post("/v1/notifications", json=email_request("ada@example.com"))
    ).json()

    notification = await sendgrid_stack.wait_for_status(accepted["id"], "sent")
    assert notification["deliveries"][0]["retry_count"] == 2
    assert len(httpserver.log) == 3


async def test_sendgrid_429_waits_at_least_retry_after(sendgrid_stack, httpserver):
    seen: list[float] = []

    def handler(request):
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("", status=429, headers={"Retry-After": "2"})
        return sendgrid_accepts()

    httpserver.expect_request("/v3/mail/send").respond_with_handler(handler)
    accepted = (
        await sendgrid_stack.api.post("/v1/notifications", json=email_request("ada@example.com"))
    ).json()

    await sendgrid_stack.wait_for_status(accepted["id"], "sent")
    assert len(seen) == 2
    assert seen[1] - seen[0] >= 1.9  # the configured backoff alone would have waited 0.1 s


async def test_sendgrid_400_fails_without_retry(sendgrid_stack, httpserver):
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
    accepted = (
        await sendgrid_stack.api.post("/v1/notifications", json=email_request("ada@example.com"))
    ).json()

    notification = await sendgrid_stack.wait_for_status(accepted["id"], "failed")
    assert len(httpserver.log) == 1
    error = notification["deliveries"][0]["error"]
    assert "400" in error and "valid address" in error


async def test_sendgrid_rejected_credentials_fail_without_retry(sendgrid_stack, httpserver):
    httpserver.expect_request("/v3/mail/send").respond_with_json(
        {
            "errors": [
                {"message": "The provided authorization grant is invalid, expired, or revoked"}
            ]
        },
        status=401,
    )
    accepted = (
        await sendgrid_stack.api.post("/v1/notifications", json=email_request("ada@example.com"))
    ).json()

    notification = await sendgrid_stack.wait_for_status(accepted["id"], "failed")
    assert len(httpserver.log) == 1
    assert "401" in notification["deliveries"][0]["error"]


def sms_request(phone: str = "+14155550123") -> dict:
    return {
        "recipient": {"external_id": f"user-{uuid.uuid4().hex[:8]}", "phone": phone},
        "event_key": "booking.reminder",
        "channels": ["sms"],
        "context": {"message": "Your call with Grace starts in 1 hour."},
    }


async def test_twilio_send_records_the_sid(twilio_stack, httpserver):
    httpserver.expect_request(TWILIO_MESSAGES, method="POST").respond_with_response(
        twilio_accepts("SM" + "7" * 32)
    )
    accepted = (await twilio_stack.api.post("/v1/notifications", json=sms_request())).json()

    notification = await twilio_stack.wait_for_status(accepted["id"], "sent")
    [delivery] = notification["deliveries"]
    assert (delivery["provider"], delivery["provider_message_id"]) == ("twilio", "SM" + "7" * 32)
    request, _ = httpserver.log[0]
    assert request.form["To"] == "+14155550123"
    assert request.form["From"] == "+15005550006"
    assert request.form["Body"] == "Your call with Grace starts in 1 hour."
    assert request.authorization.username == SID


async def test_twilio_invalid_number_fails_without_retry(twilio_stack, httpserver):
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(400, 21211, "The 'To' number +14155550000 is not a valid phone number.")
    )
    accepted = (
        await twilio_stack.api.post("/v1/notifications", json=sms_request("+14155550000"))
    ).json()

    notification = await twilio_stack.wait_for_status(accepted["id"], "failed")
    assert len(httpserver.log) == 1
    assert "not a valid phone number" in notification["deliveries"][0]["error"]


async def test_twilio_5xx_and_429_are_retried(twilio_stack, httpserver):
    httpserver.expect_ordered_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(500, 20500, "Internal")
    )
    httpserver.expect_ordered_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "1"})
    )
    httpserver.expect_ordered_request(TWILIO_MESSAGES).respond_with_response(twilio_accepts())
    accepted = (await twilio_stack.api.post("/v1/notifications", json=sms_request())).json()

    notification = await twilio_stack.wait_for_status(accepted["id"], "sent")
    assert notification["deliveries"][0]["retry_count"] == 2
    assert len(httpserver.log) == 3
