"""The outbound webhook channel through the real stack: a tenant sets its URL
(/v1/settings/webhook-channel), a notification on channel `webhook` is POSTed to a local HTTP
server, signed per Standard Webhooks, retried on 5xx, 429 and timeouts, never on other 4xx;
URLs leading inside Herald's network are refused when set and again when sent."""

import json
import time
import uuid

import pytest
from sqlalchemy import text
from werkzeug import Request, Response

from channels.base import PermanentSendError, TransientSendError, WebhookMessage
from channels.webhook import WebhookSender
from db.webhook_channels import create_webhook_channel
from domain import standard_webhooks
from domain.standard_webhooks import SignatureError
from services.inbox_secrets import secret_box

HOOK = "/herald-hook"
SETTINGS = "/v1/settings/webhook-channel"


@pytest.fixture
async def webhook_stack(make_stack, temporal_env):
    """A stack whose webhook channel may call the local server (a loopback address)."""
    async with make_stack(
        temporal_env, webhook_allow_private_addresses=True, provider_timeout_seconds=1.0
    ) as stack:
        yield stack


def webhook_request(**extra) -> dict:
    return {
        "recipient": {"external_id": f"user-{uuid.uuid4().hex[:8]}", "name": "Ada"},
        "event_key": "payment.completed",
        "channels": ["webhook"],
        "context": {"subject": "Payment received", "message": "We received 42.00 EUR.", "n": 42},
        **extra,
    }


async def set_channel(stack, url: str, **extra) -> dict:
    """PUT the tenant's webhook channel; the answer (with the secret, the first time)."""
    response = await stack.api.put(SETTINGS, json={"url": url, **extra})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def send(stack, **extra) -> dict:
    accepted = await stack.api.post("/v1/notifications", json=webhook_request(**extra))
    assert accepted.status_code == 202, accepted.text
    return accepted.json()


def verified(request: Request, secret: str) -> dict:
    """The request's JSON, once its Standard Webhooks signature is verified with `secret`."""
    body = request.get_data()
    standard_webhooks.verify([secret], dict(request.headers), body, int(time.time()))
    return json.loads(body)


async def test_a_notification_is_posted_signed_to_the_tenants_url(webhook_stack, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("thanks", status=202)
    created = await set_channel(webhook_stack, httpserver.url_for(HOOK))
    secret = created["secret"]
    assert secret.startswith("whsec_")

    external_id = f"ada-{uuid.uuid4().hex[:8]}"
    accepted = await send(webhook_stack, recipient={"external_id": external_id, "name": "Ada"})
    notification = await webhook_stack.wait_for_status(accepted["id"], "sent")

    [delivery] = notification["deliveries"]
    [(request, _)] = httpserver.log
    payload = verified(request, secret)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Herald"
    # webhook-id is the delivery's id: what the delivery records as the message's id.
    assert request.headers["webhook-id"] == delivery["id"]
    assert (delivery["provider"], delivery["provider_message_id"]) == ("webhook", delivery["id"])
    assert payload["type"] == "notification.payment.completed"
    data = payload["data"]
    assert (data["delivery_id"], data["notification_id"]) == (delivery["id"], accepted["id"])
    assert data["recipient"]["external_id"] == external_id
    assert "42.00 EUR" in data["body"]
    assert data["context"]["n"] == 42
    # Compact JSON, UTF-8: what was signed is byte for byte what was sent.
    assert request.get_data() == json.dumps(payload, separators=(",", ":")).encode()
    with pytest.raises(SignatureError):  # another tenant's secret does not verify it
        verified(request, standard_webhooks.new_secret())


async def test_the_secret_is_shown_once_and_a_later_put_keeps_it(webhook_stack, httpserver):
    url = httpserver.url_for(HOOK)
    first = await webhook_stack.api.put(SETTINGS, json={"url": url})
    assert first.status_code == 201, first.text
    secret = first.json()["secret"]

    shown = await webhook_stack.api.get(SETTINGS)
    assert shown.status_code == 200, shown.text
    assert secret not in shown.text and "secret" not in shown.json()
    assert shown.json()["secret_hint"] == "whsec_…" + secret[-4:]
    assert (shown.json()["url"], shown.json()["enabled"]) == (url, True)

    again = await webhook_stack.api.put(SETTINGS, json={"url": url + "/v2", "enabled": True})
    assert again.status_code == 200, again.text
    assert again.json()["secret"] is None and secret not in again.text
    assert again.json()["secret_hint"] == shown.json()["secret_hint"]
    assert again.json()["url"] == url + "/v2"
    assert again.json()["created_at"] == shown.json()["created_at"]


async def test_after_a_rotation_both_secrets_sign_for_a_day(webhook_stack, httpserver, sessions):
    """A receiver that still checks with the old secret, and one that already checks with the
    new one, both accept the messages of the day after a rotation; then only the new signs."""
    httpserver.expect_request(HOOK).respond_with_data("ok")
    old = (await set_channel(webhook_stack, httpserver.url_for(HOOK)))["secret"]
    rotated = await webhook_stack.api.post(f"{SETTINGS}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["secret_hint"] == "whsec_…" + new[-4:]

    await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "sent")
    [(request, _)] = httpserver.log
    verified(request, new)
    verified(request, old)

    async with sessions.begin() as session:  # the day is over
        await session.execute(
            text(
                "UPDATE webhook_channels SET previous_secret_expires_at = now() - interval '1s'"
                " WHERE tenant_id = :tenant"
            ),
            {"tenant": webhook_stack.tenant_id},
        )
    await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "sent")
    request = httpserver.log[-1][0]
    verified(request, new)
    with pytest.raises(SignatureError):
        verified(request, old)


async def test_a_5xx_is_retried_with_the_same_webhook_id(webhook_stack, httpserver):
    httpserver.expect_ordered_request(HOOK).respond_with_data("down", status=500)
    httpserver.expect_ordered_request(HOOK).respond_with_data("ok", status=200)
    secret = (await set_channel(webhook_stack, httpserver.url_for(HOOK)))["secret"]

    notification = await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "sent")

    [delivery] = notification["deliveries"]
    assert delivery["retry_count"] == 1
    requests = [request for request, _ in httpserver.log]
    assert len(requests) == 2
    # The receiver can deduplicate: both attempts are the same message, each signed.
    assert [r.headers["webhook-id"] for r in requests] == [delivery["id"]] * 2
    for request in requests:
        verified(request, secret)


@pytest.mark.parametrize("status", [400, 401, 404, 410])
async def test_a_4xx_fails_without_retry(webhook_stack, httpserver, status):
    httpserver.expect_request(HOOK).respond_with_data("no such hook", status=status)
    await set_channel(webhook_stack, httpserver.url_for(HOOK))

    notification = await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "failed")

    assert len(httpserver.log) == 1
    [delivery] = notification["deliveries"]
    assert (delivery["status"], delivery["retry_count"]) == ("failed", 1)  # one attempt
    assert str(status) in delivery["error"] and "no such hook" in delivery["error"]


async def test_a_redirect_is_not_followed(webhook_stack, httpserver):
    """A receiver cannot send Herald on to another address (169.254.169.254, say)."""
    httpserver.expect_request(HOOK).respond_with_response(
        Response("", status=302, headers={"Location": httpserver.url_for("/elsewhere")})
    )
    await set_channel(webhook_stack, httpserver.url_for(HOOK))

    notification = await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "failed")

    assert [request.path for request, _ in httpserver.log] == [HOOK]
    assert "302" in notification["deliveries"][0]["error"]


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(webhook_stack, httpserver, status):
    seen: list[float] = []

    def handler(request: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("slow down", status=status, headers={"Retry-After": "2"})
        return Response("ok", status=200)

    httpserver.expect_request(HOOK).respond_with_handler(handler)
    await set_channel(webhook_stack, httpserver.url_for(HOOK))

    await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "sent")

    assert len(seen) == 2
    assert seen[1] - seen[0] >= 1.9  # the configured backoff alone would have waited 0.1 s


async def test_a_timeout_is_retried(webhook_stack, httpserver):
    answered: list[float] = []

    def handler(request: Request) -> Response:
        if not answered:  # past PROVIDER_TIMEOUT_SECONDS (1 s here) the first time
            time.sleep(1.5)
        answered.append(time.monotonic())
        return Response("ok", status=200)

    httpserver.expect_request(HOOK).respond_with_handler(handler)
    await set_channel(webhook_stack, httpserver.url_for(HOOK))

    notification = await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "sent")

    assert len(answered) == 2
    [delivery] = notification["deliveries"]
    assert delivery["retry_count"] == 1
    ids = {request.headers["webhook-id"] for request, _ in httpserver.log}
    assert ids == {delivery["id"]}


async def test_without_a_webhook_channel_the_delivery_is_suppressed(webhook_stack, httpserver):
    """No channel, a disabled one or a deleted one: suppressed for no address, nothing sent."""
    notification = await webhook_stack.wait_for_status(
        (await send(webhook_stack))["id"], "suppressed"
    )
    [delivery] = notification["deliveries"]
    assert delivery["status"] == "suppressed"
    assert delivery["status_reason"].startswith("no_address")

    await set_channel(webhook_stack, httpserver.url_for(HOOK), enabled=False)
    disabled = await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "suppressed")
    assert disabled["deliveries"][0]["status_reason"].startswith("no_address")

    await set_channel(webhook_stack, httpserver.url_for(HOOK), enabled=True)
    deleted = await webhook_stack.api.delete(SETTINGS)
    assert deleted.status_code == 204, deleted.text
    assert (await webhook_stack.api.get(SETTINGS)).status_code == 404
    assert (await webhook_stack.api.post(f"{SETTINGS}/rotate-secret")).status_code == 404
    assert (await webhook_stack.api.delete(SETTINGS)).status_code == 204  # none: no error
    gone = await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "suppressed")
    assert gone["deliveries"][0]["status_reason"].startswith("no_address")
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"url": "ftp://hooks.example/x"}, "http(s)"),
        ({"url": "https://user:pw@127.0.0.1/x"}, "user or password"),
        ({"url": "https://127.0.0.1/x#frag"}, "fragment"),
        ({"url": "https://127.0.0.1:99999/x"}, "not a URL"),
        ({"url": "https://127.0.0.1/" + "a" * 2048}, "2048"),
        ({"url": "https://127.0.0.1/x", "enabled": "yes"}, "boolean"),
        ({"url": "https://127.0.0.1/x", "secret": "whsec_mine"}, "Extra inputs"),
        ({}, "required"),
    ],
)
async def test_a_bad_channel_is_refused_naming_the_field(webhook_stack, body, problem):
    response = await webhook_stack.api.put(SETTINGS, json=body)
    assert response.status_code == 422, response.text
    assert problem in response.text
    [field] = {error["field"] for error in response.json()["errors"]}
    assert field in body or field == "url"
    assert (await webhook_stack.api.get(SETTINGS)).status_code == 404  # nothing stored


# --- SSRF: the stack's default, WEBHOOK_ALLOW_PRIVATE_ADDRESSES off ---


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost:8443/hook",
        "https://10.0.0.7/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.100.100.200/latest/meta-data/",
    ],
)
async def test_a_url_leading_inside_is_refused_when_set(stack, url):
    response = await stack.api.put(SETTINGS, json={"url": url})
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "url"
    if url.startswith("https"):  # refused for where it leads, not its scheme
        assert "private, loopback or link-local" in error["problem"]
    else:
        assert "https" in error["problem"]
    assert (await stack.api.get(SETTINGS)).status_code == 404  # nothing stored


async def test_a_url_that_now_leads_inside_is_refused_when_sent(stack, sessions, httpserver):
    """A channel stored while its name resolved publicly, that resolves to a loopback address
    now (DNS changed, or rebinding): the send is refused before any request, permanently."""
    httpserver.expect_request(HOOK).respond_with_data("should never be called")
    url = f"http://localhost:{httpserver.port}{HOOK}"
    sealed = secret_box(stack.settings).seal(
        stack.tenant_id, "webhook-channel", standard_webhooks.new_secret()
    )
    async with sessions.begin() as session:  # as the PUT stored it when the name was public
        await create_webhook_channel(session, stack.tenant_id, url, True, sealed)

    notification = await stack.wait_for_status((await send(stack))["id"], "failed")

    [delivery] = notification["deliveries"]
    assert "refused" in delivery["error"] and "127.0.0.1" in delivery["error"]
    assert delivery["retry_count"] == 1  # a failed delivery counts its attempts: one, no retry
    assert httpserver.log == []


async def test_a_secret_that_no_longer_opens_fails_the_send_saying_why(
    webhook_stack, sessions, httpserver
):
    """Sealed under another SECRET_KEY (or tampered with): retrying cannot help, and nothing
    unsigned is sent."""
    httpserver.expect_request(HOOK).respond_with_data("should never be called")
    url = f"http://127.0.0.1:{httpserver.port}{HOOK}"
    async with sessions.begin() as session:
        await create_webhook_channel(
            session, webhook_stack.tenant_id, url, True, "v1.bm90LWEtc2VhbGVkLXNlY3JldC1hdC1hbGwx"
        )

    notification = await webhook_stack.wait_for_status((await send(webhook_stack))["id"], "failed")

    [delivery] = notification["deliveries"]
    assert "cannot open the tenant's webhook-channel secret" in delivery["error"]
    assert httpserver.log == []


# --- the provider itself: a receiver is the tenant's, not a provider of Herald's ---


@pytest.mark.parametrize(
    ("status", "failure"),
    [(500, TransientSendError), (429, TransientSendError), (401, PermanentSendError)],
)
async def test_a_receivers_failure_is_not_the_channels(httpserver, status, failure):
    """One tenant's broken receiver must not count against the webhook channel's circuit (it
    would show the channel down for every tenant), nor be taken for Herald's credentials
    refused."""
    httpserver.expect_request(HOOK).respond_with_data("no", status=status)
    sender = WebhookSender(timeout=1.0, allow_private=True)
    message = WebhookMessage(
        httpserver.url_for(HOOK), {"x": 1}, standard_webhooks.new_secret(), "d-1"
    )
    try:
        with pytest.raises(failure) as failed:
            await sender.send_webhook(message)
    finally:
        await sender.close()
    assert getattr(failed.value, "provider_down", False) is False
    assert getattr(failed.value, "provider_fault", False) is False
