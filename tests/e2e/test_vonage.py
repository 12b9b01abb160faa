"""Vonage's SMS API against a local HTTP server that records requests and answers as Vonage
would (taken, a refusal code, failing, slowing down, silent), through the real stack, with
Twilio behind it (SMS_PROVIDERS=vonage,twilio); and its signed delivery receipts."""

import hashlib
import hmac
import json
import secrets
import time
import uuid

import pytest
from werkzeug import Request, Response

from channels.base import SmsMessage, TransientSendError
from channels.vonage import VonageSmsProvider
from db.address_health import invalid_address_reason
from tests.e2e.test_http_providers import SID, TWILIO_MESSAGES, sms_request, twilio_accepts
from tests.e2e.webhooks_factory import delivery_row

SMS = "/sms/json"
RECEIPTS = "/v1/webhooks/vonage/status"
SIGNATURE_SECRET = "vonage-signature-secret-for-tests"


@pytest.fixture
async def vonage(make_stack, temporal_env, httpserver):
    """Vonage, then Twilio, both answered by the local HTTP server; receipts signed."""
    base = httpserver.url_for("").rstrip("/")
    async with make_stack(
        temporal_env,
        sms_providers="vonage,twilio",
        vonage_api_key="vonage-key",
        vonage_api_secret="vonage-secret",
        vonage_from="+15005550007",
        vonage_base_url=base,
        vonage_signature_secret=SIGNATURE_SECRET,
        twilio_account_sid=SID,
        twilio_auth_token="twilio-token",
        twilio_from_number="+15005550006",
        twilio_base_url=base,
    ) as stack:
        yield stack


def answer(*parts: dict) -> Response:
    """Vonage's answer: always 200, one entry per part of the SMS, each with its status."""
    body = {"message-count": str(len(parts)), "messages": list(parts)}
    return Response(json.dumps(body), status=200, content_type="application/json")


def taken(message_id: str = "0A0000000123ABCD") -> dict:
    return {
        "to": "14155550123",
        "message-id": message_id,
        "status": "0",
        "remaining-balance": "3.14",
        "message-price": "0.03",
        "network": "310260",
    }


def refusal(status: str, text: str) -> dict:
    return {"status": status, "error-text": text}


async def send(stack, *statuses: str, phone: str = "+14155550123", message: str = "") -> dict:
    body = sms_request(phone)
    if message:
        body["context"]["message"] = message
    accepted = (await stack.api.post("/v1/notifications", json=body)).json()
    return await stack.wait_for_status(accepted["id"], *statuses)


def failed_over(notification: dict) -> dict:
    """The notification's SMS went through Twilio after Vonage: the move's log entry."""
    [delivery] = notification["deliveries"]
    assert delivery["provider"] == "twilio"
    [moved] = delivery["failover_log"]
    assert (moved["provider"], moved["moved_to"]) == ("vonage", "twilio")
    return moved


def vonage_calls(httpserver) -> list:
    return [request for request, _ in httpserver.log if request.path == SMS]


async def test_a_send_posts_vonage_s_documented_fields(vonage, httpserver):
    httpserver.expect_request(SMS, method="POST").respond_with_response(answer(taken("0A1")))

    notification = await send(vonage, "sent")

    [delivery] = notification["deliveries"]
    assert (delivery["provider"], delivery["provider_message_id"]) == ("vonage", "0A1")
    [request] = vonage_calls(httpserver)
    form = request.form
    assert (form["api_key"], form["api_secret"]) == ("vonage-key", "vonage-secret")
    assert (form["from"], form["to"]) == ("15005550007", "14155550123")  # E.164 without +
    assert form["text"] == "Your call with Grace starts in 1 hour."
    assert "type" not in form  # GSM-7 text goes as Vonage's default, text
    assert form["client-ref"] == delivery["id"]
    assert form["callback"] == vonage.settings.public_base_url + RECEIPTS


async def test_text_beyond_gsm_7_is_sent_as_unicode(vonage, httpserver):
    httpserver.expect_request(SMS).respond_with_response(answer(taken()))

    await send(vonage, "sent", message="Ihr Termin mit Łukasz 😀")

    [request] = vonage_calls(httpserver)
    assert request.form["type"] == "unicode"
    assert request.form["text"] == "Ihr Termin mit Łukasz 😀"


@pytest.mark.parametrize(
    "status,text",
    [("3", "Invalid to parameter"), ("7", "Number barred."), ("6", "Unroutable message")],
)
async def test_a_refused_recipient_fails_at_once_without_failover(vonage, httpserver, status, text):
    httpserver.expect_request(SMS).respond_with_response(answer(refusal(status, text)))

    notification = await send(vonage, "failed")

    [delivery] = notification["deliveries"]
    assert len(vonage_calls(httpserver)) == 1  # not retried
    assert delivery["failover_log"] is None
    assert not any(r.path == TWILIO_MESSAGES for r, _ in httpserver.log)
    assert f"vonage: {status}: {text}" in delivery["error"]


@pytest.mark.parametrize(
    "status,text",
    [
        ("4", "Bad Credentials"),
        ("9", "Quota Exceeded - rejected"),
        ("15", "Illegal Sender Address - rejected"),
    ],
)
async def test_a_refusal_of_herald_s_account_fails_over_to_twilio_at_once(
    vonage, httpserver, status, text
):
    httpserver.expect_request(SMS).respond_with_response(answer(refusal(status, text)))
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_response(twilio_accepts())

    moved = failed_over(await send(vonage, "sent"))

    assert text in moved["reason"]
    assert len(vonage_calls(httpserver)) == 1


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(lambda: answer(refusal("5", "Internal Error")), id="status-5"),
        pytest.param(lambda: Response("bad gateway", status=502), id="http-502"),
    ],
)
async def test_an_outage_is_retried_then_fails_over_to_twilio(vonage, httpserver, outage):
    httpserver.expect_request(SMS).respond_with_handler(lambda request: outage())
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_response(twilio_accepts())

    failed_over(await send(vonage, "sent"))

    assert 2 <= len(vonage_calls(httpserver)) <= vonage.settings.delivery_max_attempts


async def test_throttled_is_retried_on_vonage(vonage, httpserver):
    httpserver.expect_ordered_request(SMS).respond_with_response(
        answer(refusal("1", "Throughput Rate Exceeded - please wait [ 1000 ] and retry"))
    )
    httpserver.expect_ordered_request(SMS).respond_with_response(answer(taken()))

    notification = await send(vonage, "sent")

    [delivery] = notification["deliveries"]
    assert (delivery["provider"], delivery["retry_count"]) == ("vonage", 1)
    assert delivery["failover_log"] is None


async def test_429_waits_at_least_retry_after(vonage, httpserver):
    seen: list[float] = []

    def handler(request: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("", status=429, headers={"Retry-After": "2"})
        return answer(taken())

    httpserver.expect_request(SMS).respond_with_handler(handler)

    notification = await send(vonage, "sent")

    assert notification["deliveries"][0]["provider"] == "vonage"
    assert len(seen) == 2
    assert seen[1] - seen[0] >= 1.9  # the configured backoff alone would have waited 0.1 s


async def test_a_timeout_is_retried(make_stack, temporal_env, httpserver):
    calls: list[float] = []

    def slow_once(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(1.5)  # past PROVIDER_TIMEOUT_SECONDS below; the retry waits behind it
        return answer(taken())

    httpserver.expect_request(SMS).respond_with_handler(slow_once)
    async with make_stack(
        temporal_env,
        sms_provider="vonage",
        provider_timeout_seconds=1.0,
        vonage_api_key="vonage-key",
        vonage_api_secret="vonage-secret",
        vonage_from="Herald",
        vonage_base_url=httpserver.url_for("").rstrip("/"),
    ) as stack:
        notification = await send(stack, "sent")

    assert len(calls) == 2
    assert notification["deliveries"][0]["retry_count"] == 1


# Delivery receipts


def sign(params: dict, secret: str = SIGNATURE_SECRET, timestamp: int | None = None) -> dict:
    """The receipt as a signed webhook carries it (SHA-256 HMAC): a timestamp, a nonce, sig."""
    params = {
        **params,
        "timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "nonce": str(uuid.uuid4()),
    }
    signed = "".join(
        f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in sorted(params.items())
    )
    return {**params, "sig": hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()}


def receipt(delivery: dict, status: str, err_code: str = "0") -> dict:
    return {
        "msisdn": "14155550123",
        "to": "15005550007",
        "network-code": "310260",
        "messageId": delivery["provider_message_id"],
        "price": "0.03330000",
        "status": status,
        "scts": "2601011200",
        "err-code": err_code,
        "api-key": "vonage-key",
        "client-ref": delivery["id"],
        "message-timestamp": "2026-01-01 12:00:00",
    }


async def sent_through_vonage(stack, httpserver) -> dict:
    httpserver.expect_oneshot_request(SMS).respond_with_response(
        answer(taken(secrets.token_hex(8).upper()))
    )
    [delivery] = (await send(stack, "sent"))["deliveries"]
    return delivery


async def test_a_delivered_receipt_moves_the_delivery_forward(vonage, httpserver, sessions):
    delivery = await sent_through_vonage(vonage, httpserver)

    response = await vonage.api.post(RECEIPTS, data=sign(receipt(delivery, "delivered")))

    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 1
    assert (await delivery_row(sessions, delivery)).status == "delivered"


async def test_a_receipt_by_get_or_as_json_is_read_the_same(vonage, httpserver, sessions):
    by_get = await sent_through_vonage(vonage, httpserver)
    as_json = await sent_through_vonage(vonage, httpserver)

    got = await vonage.api.get(RECEIPTS, params=sign(receipt(by_get, "delivered")))
    posted = await vonage.api.post(RECEIPTS, json=sign(receipt(as_json, "delivered")))

    assert (got.status_code, posted.status_code) == (200, 200), (got.text, posted.text)
    assert (await delivery_row(sessions, by_get)).status == "delivered"
    assert (await delivery_row(sessions, as_json)).status == "delivered"


async def test_a_receipt_of_a_dead_number_fails_it_and_marks_the_number_invalid(
    vonage, httpserver, sessions
):
    delivery = await sent_through_vonage(vonage, httpserver)

    await vonage.api.post(RECEIPTS, data=sign(receipt(delivery, "failed", "3")))

    row = await delivery_row(sessions, delivery)
    assert row.status == "failed"
    assert row.error == "vonage failed: error 3 (absent subscriber - permanent)"
    async with sessions() as session:
        reason = await invalid_address_reason(session, vonage.tenant_id, "sms", delivery["address"])
    assert reason == "vonage error 3: absent subscriber - permanent"


async def test_a_rejected_receipt_for_a_phone_that_is_off_keeps_the_number(
    vonage, httpserver, sessions
):
    delivery = await sent_through_vonage(vonage, httpserver)

    await vonage.api.post(RECEIPTS, data=sign(receipt(delivery, "rejected", "2")))

    assert (await delivery_row(sessions, delivery)).status == "failed"
    async with sessions() as session:
        assert (
            await invalid_address_reason(session, vonage.tenant_id, "sms", delivery["address"])
            is None
        )


def wrong_sig(params: dict) -> dict:
    return {**params, "sig": "0" * 64}


def no_sig(params: dict) -> dict:
    return {k: v for k, v in params.items() if k != "sig"}


def another_secret(params: dict) -> dict:
    return sign({k: v for k, v in params.items() if k not in ("sig", "timestamp", "nonce")}, "x")


def ten_minutes_old(params: dict) -> dict:
    fields = {k: v for k, v in params.items() if k not in ("sig", "timestamp", "nonce")}
    return sign(fields, timestamp=int(time.time()) - 600)


def status_changed(params: dict) -> dict:
    return {**params, "status": "failed", "err-code": "3"}


@pytest.mark.parametrize(
    "forge", [wrong_sig, no_sig, another_secret, ten_minutes_old, status_changed]
)
async def test_a_forged_or_stale_receipt_is_refused_and_changes_nothing(
    vonage, httpserver, sessions, forge
):
    delivery = await sent_through_vonage(vonage, httpserver)

    response = await vonage.api.post(RECEIPTS, data=forge(sign(receipt(delivery, "delivered"))))

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "invalid_signature"
    assert (await delivery_row(sessions, delivery)).status == "sent"
    async with sessions() as session:
        assert (
            await invalid_address_reason(session, vonage.tenant_id, "sms", delivery["address"])
            is None
        )


async def test_throttling_is_not_counted_as_an_outage(httpserver):
    """Vonage's "1" (Throttled) is flow control from a provider that is up, as HTTP 429 is: its
    circuit must not open on it; "5" (Internal Error) is an outage."""
    provider = VonageSmsProvider(
        "key", "secret", "Herald", base_url=httpserver.url_for("").rstrip("/")
    )
    httpserver.expect_ordered_request(SMS).respond_with_response(
        answer(refusal("1", "Throughput Rate Exceeded"))
    )
    httpserver.expect_ordered_request(SMS).respond_with_response(
        answer(refusal("5", "Internal Error"))
    )
    try:
        with pytest.raises(TransientSendError) as throttled:
            await provider.send_sms(SmsMessage(to="+14155550123", body="Hi"))
        with pytest.raises(TransientSendError) as internal:
            await provider.send_sms(SmsMessage(to="+14155550123", body="Hi"))
    finally:
        await provider.close()
    assert throttled.value.provider_down is False
    assert internal.value.provider_down is True
