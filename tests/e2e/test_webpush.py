"""Web Push end to end: Herald's VAPID key pair, the webpush provider against a local push
service over TLS (tests/e2e/push_endpoint.py: it checks the VAPID signature and the test
decrypts each push with the subscription's private key), and push notifications through the
real stack (API -> workflow -> activity -> provider), gone devices included."""

import asyncio
import time
import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, select

from bootstrap import load_providers
from channels.base import (
    DeviceGoneError,
    PermanentSendError,
    PushMessage,
    TransientSendError,
)
from channels.safe_http import RefusedAddress
from channels.webpush import MAX_PLAINTEXT_BYTES
from config.settings import Settings
from db.channel_models import Device, VapidKey
from domain.device_tokens import webpush_token
from domain.devices import PushDevice
from services import vapid
from tests.e2e.push_endpoint import (
    Answer,
    PushService,
    Subscriber,
    b64url_bytes,
    running_push_service,
    vapid_claims,
)


@pytest.fixture
def push_service(tmp_path):
    with running_push_service(tmp_path) as service:
        yield service


@pytest.fixture
async def push_stack(make_stack, temporal_env, push_service):
    async with make_stack(temporal_env, **push_service.settings()) as stack:
        yield stack


async def public_key(stack) -> str:
    answer = await stack.api.get("/v1/inbox/push/public-key")
    assert answer.status_code == 200, answer.text
    return answer.json()["public_key"]


async def recipient_with_devices(stack, *subscribers: Subscriber) -> str:
    external_id = f"push-{uuid.uuid4().hex[:8]}"
    created = await stack.api.put(f"/v1/recipients/{external_id}", json={"name": "Ada"})
    assert created.status_code in (200, 201), created.text
    for number, subscriber in enumerate(subscribers):
        registered = await stack.api.put(
            f"/v1/recipients/{external_id}/devices",
            json={
                "kind": "webpush",
                "subscription": subscriber.subscription(),
                "label": f"browser {number}",
            },
        )
        assert registered.status_code == 201, registered.text
    return external_id


def push_request(external_id: str, title: str = "Order shipped", **context) -> dict:
    return {
        "recipient": {"external_id": external_id},
        "event_key": "order.shipped",
        "channels": ["push"],
        "context": {
            "subject": title,
            "message": "Parcel 1Z999 left the warehouse.",
            "action_url": "https://shop.example.com/orders/42",
            "data": {"order": "42"},
            **context,
        },
    }


async def notify(stack, external_id: str, **kwargs) -> str:
    accepted = await stack.api.post("/v1/notifications", json=push_request(external_id, **kwargs))
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["id"]


async def wait_pushed(service: PushService, subscriber: Subscriber, count: int = 1) -> list:
    deadline = time.monotonic() + 15
    while len(service.received_by(subscriber)) < count:
        assert time.monotonic() < deadline, f"{subscriber.path} got fewer than {count} pushes"
        await asyncio.sleep(0.05)
    return service.received_by(subscriber)


async def device_rows(sessions, subscriber: Subscriber) -> list[Device]:
    async with sessions() as session:
        rows = await session.scalars(select(Device).where(Device.token.contains(subscriber.path)))
        return list(rows)


# ---------------------------------------------------------------- through the whole stack


async def test_a_push_notification_reaches_the_device_signed_and_encrypted(
    push_stack, push_service
):
    ada = push_service.subscriber()
    external_id = await recipient_with_devices(push_stack, ada)
    notification_id = await notify(push_stack, external_id)

    [pushed] = await wait_pushed(push_service, ada)
    claims = vapid_claims(pushed, await public_key(push_stack))
    assert claims["sub"] == push_stack.settings.vapid_subject
    assert pushed.headers["Ttl"] == "86400"
    notification = await push_stack.wait_for_status(notification_id, "sent")
    [delivery] = notification["deliveries"]
    message = ada.decrypt(pushed)
    assert message == {
        "title": "Order shipped",
        "body": message["body"],
        "icon": None,
        "action_url": "https://shop.example.com/orders/42",
        "data": {"order": "42", "herald_delivery_id": delivery["id"], "event_key": "order.shipped"},
    }
    assert "Parcel 1Z999 left the warehouse." in message["body"]
    assert delivery["provider"] == "push"


async def test_a_gone_device_is_deactivated_and_the_next_push_skips_it(
    push_stack, push_service, sessions
):
    kept, gone = push_service.subscriber(), push_service.subscriber()
    push_service.answer(gone, Answer(410))
    external_id = await recipient_with_devices(push_stack, kept, gone)

    first = await notify(push_stack, external_id, title="First")
    notification = await push_stack.wait_for_status(first, "sent")
    assert notification["deliveries"][0]["retry_count"] == 0
    assert [kept.decrypt(p)["title"] for p in await wait_pushed(push_service, kept)] == ["First"]
    [row] = await device_rows(sessions, gone)
    assert not row.active and row.deactivated_at is not None
    assert "410" in (row.deactivation_reason or "")
    [still] = await device_rows(sessions, kept)
    assert still.active
    listed = await push_stack.api.get(f"/v1/recipients/{external_id}/devices")
    shown = {d["label"]: d for d in listed.json()["data"]}
    assert (
        shown["browser 1"]["active"] is False and "410" in shown["browser 1"]["deactivation_reason"]
    )

    second = await notify(push_stack, external_id, title="Second")
    await push_stack.wait_for_status(second, "sent")
    pushed = await wait_pushed(push_service, kept, 2)
    assert [kept.decrypt(p)["title"] for p in pushed] == ["First", "Second"]
    assert len(push_service.received_by(gone)) == 1  # the gone device was never tried again


async def test_a_recipient_whose_only_device_is_gone_fails_at_once(
    push_stack, push_service, sessions
):
    gone = push_service.subscriber()
    push_service.answer(gone, Answer(404))
    external_id = await recipient_with_devices(push_stack, gone)

    notification_id = await notify(push_stack, external_id)
    notification = await push_stack.wait_for_status(notification_id, "failed")
    [delivery] = notification["deliveries"]
    # A failed delivery counts its attempts: one, no retry.
    assert delivery["status"] == "failed" and delivery["retry_count"] == 1
    assert "gone" in delivery["error"]
    await asyncio.sleep(1.0)  # retries would come within 0.1-0.5 s
    assert len(push_service.received_by(gone)) == 1
    [row] = await device_rows(sessions, gone)
    assert not row.active and "404" in (row.deactivation_reason or "")


async def test_a_recipient_without_devices_is_skipped_not_failed(push_stack, push_service):
    external_id = await recipient_with_devices(push_stack)
    notification_id = await notify(push_stack, external_id)
    notification = await push_stack.wait_for_status(notification_id, "suppressed")
    [delivery] = notification["deliveries"]
    assert delivery["status"] == "suppressed"
    assert delivery["status_reason"] == "no_address: the recipient has no push device"
    assert push_service.received == []


async def test_a_5xx_is_retried_then_sent(push_stack, push_service):
    ada = push_service.subscriber()
    push_service.answer(ada, Answer(500), Answer(503))
    external_id = await recipient_with_devices(push_stack, ada)
    notification = await push_stack.wait_for_status(await notify(push_stack, external_id), "sent")
    assert notification["deliveries"][0]["retry_count"] == 2
    pushed = await wait_pushed(push_service, ada, 3)
    # Each attempt encrypts anew (a fresh key and salt), and each decrypts to the same push.
    assert len({p.body for p in pushed}) == 3
    assert {ada.decrypt(p)["title"] for p in pushed} == {"Order shipped"}


async def test_a_429_is_retried_after_retry_after(push_stack, push_service):
    ada = push_service.subscriber()
    push_service.answer(ada, Answer(429, {"Retry-After": "2"}))
    external_id = await recipient_with_devices(push_stack, ada)
    await push_stack.wait_for_status(await notify(push_stack, external_id), "sent")
    first, second = await wait_pushed(push_service, ada, 2)
    assert second.at - first.at >= 1.9  # the configured backoff alone would have waited 0.1 s


async def test_a_push_service_that_does_not_answer_in_time_is_retried(
    make_stack, temporal_env, push_service
):
    ada = push_service.subscriber()
    push_service.answer(ada, Answer(201, delay=1.5))
    async with make_stack(
        temporal_env, provider_timeout_seconds=0.5, **push_service.settings()
    ) as stack:
        external_id = await recipient_with_devices(stack, ada)
        notification = await stack.wait_for_status(await notify(stack, external_id), "sent")
    assert notification["deliveries"][0]["retry_count"] == 1
    assert len(await wait_pushed(push_service, ada, 2)) == 2


# ---------------------------------------------------------------- the provider's answers


@pytest.fixture
def push_settings(database_url, push_service):
    return Settings(
        database_url=database_url,
        secret_key=SecretStr("test-secret-key-not-for-production"),
        provider_timeout_seconds=0.5,
        **push_service.settings(),
    )


async def push_to(settings, sessions, *subscribers: Subscriber, body: str = "Hello"):
    """One push to the subscribers' devices through the providers a worker builds."""
    providers = await load_providers(settings, sessions)
    try:
        devices = [
            PushDevice(str(n), "webpush", webpush_token(**_token_parts(s)))
            for n, s in enumerate(subscribers)
        ]
        message = PushMessage(device=devices[0], body=body, title="Hi")
        return await providers.provider("push", None).send_to_devices(devices, message)
    finally:
        await providers.close()


def _token_parts(subscriber: Subscriber) -> dict[str, str]:
    given = subscriber.subscription()
    return {"endpoint": given["endpoint"], **given["keys"]}


@pytest.mark.parametrize(
    ("answer", "kind", "provider_fault"),
    [
        (Answer(404), DeviceGoneError, False),
        (Answer(410), DeviceGoneError, False),
        (Answer(400), PermanentSendError, False),
        (Answer(413), PermanentSendError, False),
        (Answer(401), PermanentSendError, True),
        (Answer(403), PermanentSendError, True),
        (Answer(500), TransientSendError, None),
        (Answer(502), TransientSendError, None),
    ],
)
async def test_each_answer_of_the_push_service_is_a_kind_of_failure(
    push_settings, sessions, push_service, answer, kind, provider_fault
):
    ada = push_service.subscriber()
    push_service.answer(ada, answer)
    outcome = await push_to(push_settings, sessions, ada)
    assert not outcome.sent
    if kind is DeviceGoneError:
        assert str(answer.status) in outcome.gone["0"] and not outcome.failed
        return
    error = outcome.failed["0"]
    assert type(error) is kind, error
    assert str(answer.status) in error.message
    if provider_fault is not None:
        assert error.provider_fault is provider_fault
    else:
        assert error.provider_down  # a push service failing


async def test_a_429_carries_its_retry_after(push_settings, sessions, push_service):
    ada = push_service.subscriber()
    push_service.answer(ada, Answer(429, {"Retry-After": "7"}))
    error = (await push_to(push_settings, sessions, ada)).failed["0"]
    assert isinstance(error, TransientSendError)
    assert error.retry_after == 7.0 and not error.provider_down


async def test_a_timeout_is_transient(push_settings, sessions, push_service):
    ada = push_service.subscriber()
    push_service.answer(ada, Answer(201, delay=1.5))
    started = time.monotonic()
    error = (await push_to(push_settings, sessions, ada)).failed["0"]
    assert isinstance(error, TransientSendError) and "timed out" in error.message
    assert time.monotonic() - started < 1.4


async def test_a_push_service_on_a_private_address_is_refused_unless_allowed(
    push_settings, sessions, push_service
):
    ada = push_service.subscriber()
    guarded = push_settings.model_copy(update={"webhook_allow_private_addresses": False})
    error = (await push_to(guarded, sessions, ada)).failed["0"]
    assert isinstance(error, RefusedAddress) and "127.0.0.1" in error.message
    assert push_service.received == []


async def test_a_push_too_long_for_push_services_is_cut_to_fit(
    push_settings, sessions, push_service
):
    ada = push_service.subscriber()
    outcome = await push_to(push_settings, sessions, ada, body="é" * 5000)
    assert outcome.sent
    [pushed] = push_service.received_by(ada)
    assert len(pushed.body) <= 4096
    message = ada.decrypt(pushed)
    assert message["body"].endswith("…") and set(message["body"][:-1]) == {"é"}
    assert len(message["body"]) > MAX_PLAINTEXT_BYTES // 2 - 100  # cut to fit, not emptied


async def test_a_subscription_stored_broken_is_gone(push_settings, sessions, push_service):
    providers = await load_providers(push_settings, sessions)
    try:
        device = PushDevice("0", "webpush", '{"endpoint": "https://127.0.0.1/push/x"}')
        outcome = await providers.provider("push", None).send_to_devices(
            [device], PushMessage(device=device, body="Hello")
        )
    finally:
        await providers.close()
    assert "not usable" in outcome.gone["0"]


# ---------------------------------------------------------------- the VAPID key pair


async def test_the_key_pair_is_made_once_when_many_ask_at_once(push_settings, sessions):
    async with sessions.begin() as session:
        await session.execute(delete(VapidKey))

    async def ask() -> vapid.VapidKeys:
        async with sessions() as session:
            return await vapid.vapid_keys(session, push_settings)

    answers = await asyncio.gather(*(ask() for _ in range(6)))
    assert len(set(answers)) == 1
    async with sessions() as session:
        [row] = (await session.scalars(select(VapidKey))).all()
    assert row.id == 1 and row.public_key == answers[0].public_key
    assert "PRIVATE KEY" not in row.private_key_sealed  # sealed at rest
    assert answers[0].private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")


async def test_the_public_key_is_served_to_any_origin_without_credentials(push_stack, sessions):
    anonymous = await push_stack.as_tenant("")
    answer = await anonymous.get(
        "/v1/inbox/push/public-key",
        headers={"Origin": "https://shop.example.com", "Authorization": ""},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == "*"
    key = answer.json()["public_key"]
    async with sessions() as session:
        assert key == (await vapid.vapid_keys(session, push_stack.settings)).public_key
    point = b64url_bytes(key)
    assert len(point) == 65 and point[0] == 4  # an uncompressed P-256 point


async def test_without_secret_key_web_push_refuses_its_sends_saying_why(
    push_settings, sessions, push_service
):
    unsealed = push_settings.model_copy(update={"secret_key": SecretStr("another-secret-key-x")})
    ada = push_service.subscriber()
    error = (await push_to(unsealed, sessions, ada)).failed["0"]
    assert isinstance(error, PermanentSendError) and error.provider_fault
    assert "VAPID" in error.message
    assert push_service.received == []


async def test_the_service_worker_is_served_as_javascript(push_stack):
    anonymous = await push_stack.as_tenant("")
    answer = await anonymous.get(
        "/v1/inbox/herald-sw.js", headers={"Origin": "https://shop.example.com"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.headers["service-worker-allowed"] == "/"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert b'addEventListener("push"' in answer.content
    again = await anonymous.get(
        "/v1/inbox/herald-sw.js", headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304
