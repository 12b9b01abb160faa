"""Mailgun through its documented HTTP API, against a local HTTP server that records requests and
answers as Mailgun would (taken, refused, failing, slowing down, silent), through the real
stack; and its signed webhooks moving deliveries forward."""

import hashlib
import hmac
import json
import secrets
import time
import uuid

import pytest
from sqlalchemy import func, select
from werkzeug import Request, Response

from db.address_health import invalid_address_reason
from db.tracking_models import SeenProviderEvent
from tests.e2e.test_email_smtp import email_request
from tests.e2e.webhooks_factory import delivery_row

DOMAIN = "mg.example.com"
MESSAGES = f"/v3/{DOMAIN}/messages"
API_KEY = "key-mailgun-test"
SIGNING_KEY = "mailgun-webhook-signing-key-for-tests"
WEBHOOK = "/v1/webhooks/mailgun"


def mailgun_settings(httpserver) -> dict:
    return dict(
        mailgun_api_key=API_KEY,
        mailgun_domain=DOMAIN,
        mailgun_base_url=httpserver.url_for("").rstrip("/"),
        mailgun_webhook_signing_key=SIGNING_KEY,
    )


@pytest.fixture
async def mailgun(make_stack, temporal_env, httpserver):
    """Mailgun, then SMTP (the session's mail catcher), as EMAIL_PROVIDERS orders them."""
    async with make_stack(
        temporal_env, email_providers="mailgun,smtp", **mailgun_settings(httpserver)
    ) as stack:
        yield stack


def queued(message_id: str = "20260101120000.1.ABC@mg.example.com") -> Response:
    """Mailgun's answer to a message it took."""
    body = {"id": f"<{message_id}>", "message": "Queued. Thank you."}
    return Response(json.dumps(body), status=200, content_type="application/json")


def refused(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(
        json.dumps({"message": message}),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


async def send(stack, to: str, *statuses: str) -> dict:
    accepted = (await stack.api.post("/v1/notifications", json=email_request(to))).json()
    return await stack.wait_for_status(accepted["id"], *statuses)


async def test_a_send_posts_mailgun_s_documented_form(mailgun, httpserver):
    httpserver.expect_request(MESSAGES, method="POST").respond_with_response(queued("mg-1@x"))
    to = address()

    notification = await send(mailgun, to, "sent")

    [delivery] = notification["deliveries"]
    assert (delivery["provider"], delivery["provider_message_id"]) == ("mailgun", "mg-1@x")
    [(request, _)] = httpserver.log
    assert (request.authorization.username, request.authorization.password) == ("api", API_KEY)
    form = request.form
    assert form["from"] == "Herald <notifications@herald.localhost>"
    assert form["to"] == to
    assert form["subject"] == "Payment received"
    assert "42.00 EUR" in form["text"] and "42.00 EUR" in form["html"]
    assert form["h:Message-ID"] == f"<{delivery['id']}@herald.localhost>"
    assert form["v:herald_delivery_id"] == delivery["id"]
    assert form["h:Auto-Submitted"] == "auto-generated"
    assert form["h:List-Unsubscribe"].startswith("<http")
    assert form["h:List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_a_refused_recipient_fails_at_once_without_failover(mailgun, httpserver, smtp):
    httpserver.expect_request(MESSAGES).respond_with_response(
        refused(400, "'to' parameter is not a valid address. please check documentation")
    )
    to = address()

    notification = await send(mailgun, to, "failed")

    [delivery] = notification["deliveries"]
    assert len(httpserver.log) == 1  # not retried
    assert delivery["failover_log"] is None and smtp.to(to) == []
    assert "400" in delivery["error"] and "not a valid address" in delivery["error"]


@pytest.mark.parametrize(
    "status,message",
    [(401, "Forbidden"), (404, f"Domain not found: {DOMAIN}")],
)
async def test_a_refusal_of_herald_s_account_fails_over_at_once(
    mailgun, httpserver, smtp, status, message
):
    httpserver.expect_request(MESSAGES).respond_with_response(refused(status, message))
    to = address()

    notification = await send(mailgun, to, "sent")

    [mail] = await smtp.wait_for(to)
    assert mail.subject == "Payment received"
    [moved] = notification["deliveries"][0]["failover_log"]
    assert (moved["provider"], moved["moved_to"]) == ("mailgun", "smtp")
    assert str(status) in moved["reason"] and message in moved["reason"]
    assert len(httpserver.log) == 1  # not retried: another provider may take it now


async def test_an_outage_is_retried_then_fails_over_to_smtp(mailgun, httpserver, smtp):
    httpserver.expect_request(MESSAGES).respond_with_data("upstream down", status=503)
    to = address()

    notification = await send(mailgun, to, "sent")

    await smtp.wait_for(to)
    [delivery] = notification["deliveries"]
    assert delivery["provider"] == "smtp"
    [moved] = delivery["failover_log"]
    assert (moved["provider"], moved["moved_to"]) == ("mailgun", "smtp")
    assert "503" in moved["reason"]
    assert 2 <= len(httpserver.log) <= mailgun.settings.delivery_max_attempts  # retried first


async def test_a_timeout_is_retried(make_stack, temporal_env, httpserver):
    calls: list[float] = []

    def slow_once(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            # Past PROVIDER_TIMEOUT_SECONDS below; the retry, queued behind this one (the server
            # serves one request at a time), is answered well within its own timeout.
            time.sleep(1.5)
        return queued()

    httpserver.expect_request(MESSAGES).respond_with_handler(slow_once)
    async with make_stack(
        temporal_env,
        email_providers="mailgun",
        provider_timeout_seconds=1.0,
        **mailgun_settings(httpserver),
    ) as stack:
        notification = await send(stack, address(), "sent")

    assert len(calls) == 2
    assert notification["deliveries"][0]["retry_count"] == 1


async def test_429_waits_at_least_retry_after(mailgun, httpserver):
    seen: list[float] = []

    def handler(request: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return refused(429, "Too many requests", {"Retry-After": "2"})
        return queued()

    httpserver.expect_request(MESSAGES).respond_with_handler(handler)

    notification = await send(mailgun, address(), "sent")

    assert notification["deliveries"][0]["provider"] == "mailgun"
    assert len(seen) == 2
    assert seen[1] - seen[0] >= 1.9  # the configured backoff alone would have waited 0.1 s


# Webhooks


def signed(event_data: dict, key: str = SIGNING_KEY, timestamp: int | None = None) -> dict:
    """A webhook body as Mailgun posts it: the event, and a signature of a fresh token."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": stamp, "token": token, "signature": signature},
        "event-data": event_data,
    }


def event(kind: str, delivery: dict, **fields) -> dict:
    return {
        "event": kind,
        "id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "recipient": "someone@example.com",
        "message": {"headers": {"message-id": delivery["provider_message_id"]}},
        "user-variables": {"herald_delivery_id": delivery["id"]},
        **fields,
    }


async def sent_through_mailgun(stack, httpserver, to: str | None = None, **request) -> dict:
    httpserver.expect_oneshot_request(MESSAGES).respond_with_response(
        queued(f"{uuid.uuid4().hex}@{DOMAIN}")
    )
    body = email_request(to or address(), **request)
    accepted = (await stack.api.post("/v1/notifications", json=body)).json()
    [delivery] = (await stack.wait_for_status(accepted["id"], "sent"))["deliveries"]
    return delivery


async def test_delivered_then_opened_then_clicked_move_the_delivery_forward(
    mailgun, httpserver, sessions
):
    delivery = await sent_through_mailgun(mailgun, httpserver)

    for kind, status in (("delivered", "delivered"), ("opened", "opened"), ("clicked", "clicked")):
        response = await mailgun.api.post(WEBHOOK, json=signed(event(kind, delivery)))
        assert response.status_code == 200, response.text
        assert response.json()["applied"] == 1
        assert (await delivery_row(sessions, delivery)).status == status


async def test_an_event_matched_by_message_id_alone(mailgun, httpserver, sessions):
    """Without the variable (a message sent before it was set), Mailgun's Message-ID, which
    its events give without the angle brackets its send answer has, still finds it."""
    delivery = await sent_through_mailgun(mailgun, httpserver)
    data = event("delivered", delivery)
    del data["user-variables"]

    response = await mailgun.api.post(WEBHOOK, json=signed(data))

    assert response.json()["applied"] == 1
    assert (await delivery_row(sessions, delivery)).status == "delivered"


async def test_a_permanent_failure_bounces_and_marks_the_address_invalid(
    mailgun, httpserver, sessions
):
    to = address()
    delivery = await sent_through_mailgun(mailgun, httpserver, to)
    failure = event(
        "failed",
        delivery,
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"code": 550, "message": "5.1.1 no such user"}},
    )

    await mailgun.api.post(WEBHOOK, json=signed(failure))

    row = await delivery_row(sessions, delivery)
    assert row.status == "bounced"
    assert row.error == "mailgun failed: bounce; 550; 5.1.1 no such user"
    async with sessions() as session:
        reason = await invalid_address_reason(session, mailgun.tenant_id, "email", to)
    assert reason == "hard bounce: 550 5.1.1 no such user"


async def test_a_temporary_failure_changes_nothing(mailgun, httpserver, sessions):
    to = address()
    delivery = await sent_through_mailgun(mailgun, httpserver, to)
    failure = event("failed", delivery, severity="temporary", reason="generic")

    response = await mailgun.api.post(WEBHOOK, json=signed(failure))

    assert response.json()["ignored"] == 1
    assert (await delivery_row(sessions, delivery)).status == "sent"
    async with sessions() as session:
        assert await invalid_address_reason(session, mailgun.tenant_id, "email", to) is None


@pytest.mark.parametrize("kind", ["complained", "unsubscribed"])
async def test_a_complaint_or_unsubscribe_turns_the_category_off(mailgun, httpserver, kind):
    who = {"external_id": f"user-{uuid.uuid4().hex[:8]}", "email": address()}
    delivery = await sent_through_mailgun(mailgun, httpserver, recipient=who)

    response = await mailgun.api.post(WEBHOOK, json=signed(event(kind, delivery)))

    assert response.json()["applied"] == 1
    prefs = (await mailgun.api.get(f"/v1/recipients/{who['external_id']}/preferences")).json()
    assert prefs["rules"] == {"payment": {"email": False}}


async def seen_tokens(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count())
            .select_from(SeenProviderEvent)
            .where(SeenProviderEvent.provider == "mailgun")
        )


def wrong_signature(body: dict) -> None:
    body["signature"]["signature"] = "0" * 64


def no_signature(body: dict) -> None:
    del body["signature"]


def another_key(body: dict) -> None:
    body["signature"] = signed(body["event-data"], key="not-the-signing-key")["signature"]


def ten_minutes_old(body: dict) -> None:
    body["signature"] = signed(body["event-data"], timestamp=int(time.time()) - 600)["signature"]


@pytest.mark.parametrize("forge", [wrong_signature, no_signature, another_key, ten_minutes_old])
async def test_a_forged_or_stale_signature_is_refused_and_changes_nothing(
    mailgun, httpserver, sessions, forge
):
    to = address()
    delivery = await sent_through_mailgun(mailgun, httpserver, to)
    body = signed(event("failed", delivery, severity="permanent", reason="bounce"))
    forge(body)
    tokens = await seen_tokens(sessions)

    response = await mailgun.api.post(WEBHOOK, json=body)

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "invalid_signature"
    assert (await delivery_row(sessions, delivery)).status == "sent"
    assert await seen_tokens(sessions) == tokens
    async with sessions() as session:
        assert await invalid_address_reason(session, mailgun.tenant_id, "email", to) is None


async def test_a_replayed_token_applies_nothing_new(mailgun, httpserver, sessions):
    """Mailgun signs the timestamp and token, not the event: a captured call sent again with
    another event inside the 5 minutes finds its token used."""
    to = address()
    delivery = await sent_through_mailgun(mailgun, httpserver, to)
    first = signed(event("delivered", delivery))
    assert (await mailgun.api.post(WEBHOOK, json=first)).json()["applied"] == 1

    replay = {
        **first,
        "event-data": event("failed", delivery, severity="permanent", reason="bounce"),
    }
    response = await mailgun.api.post(WEBHOOK, json=replay)

    assert response.json()["duplicates"] == 1
    assert (await delivery_row(sessions, delivery)).status == "delivered"
    async with sessions() as session:
        assert await invalid_address_reason(session, mailgun.tenant_id, "email", to) is None


async def test_without_a_signing_key_webhooks_are_not_configured(make_stack, temporal_env):
    async with make_stack(temporal_env) as stack:
        response = await stack.api.post(WEBHOOK, json=signed({"event": "delivered"}))
    assert response.status_code == 503
    assert "MAILGUN_WEBHOOK_SIGNING_KEY" in response.json()["detail"]
