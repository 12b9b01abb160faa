"""APNs, token-based over HTTP/2, against a local HTTP/2 TLS server (hypercorn) that verifies
the provider token with the .p8 key's public key, the path and Apple's headers."""

import secrets
import uuid

import pytest

from channels import apns
from channels.apns import DECLARATION
from channels.base import DeviceGoneError, PermanentSendError, PushMessage, TransientSendError
from channels.declaration import ProviderConfig
from domain.devices import PushDevice
from tests.e2e.push_servers import (
    APNS_TOPIC,
    ApnsAnswer,
    FcmServer,
    add_device,
    device_state,
    push_recipient,
    push_request,
    running_apns_server,
)


@pytest.fixture
async def apns_server(tmp_path):
    async with running_apns_server(tmp_path) as server:
        yield server


@pytest.fixture
async def provider(apns_server):
    built = DECLARATION.build(ProviderConfig(apns_server.settings(), timeout=1.0))
    yield built
    await built.close()


def device_token() -> str:
    return secrets.token_hex(32)  # APNs device tokens are 32 bytes, sent as hex


def push(token: str | None = None, **fields) -> PushMessage:
    return PushMessage(
        device=fields.pop("device", None) or PushDevice(str(uuid.uuid4()), "apns", token or ""),
        body=fields.pop("body", "Your call with Grace starts in 1 hour."),
        title=fields.pop("title", "Reminder"),
        reference=fields.pop("reference", str(uuid.uuid4())),
        **fields,
    )


async def test_a_send_goes_over_http2_to_the_device_with_a_verified_token(provider, apns_server):
    token = device_token()
    message = push(
        token,
        action_url="https://app.example.com/calls/42",
        data={"call_id": "42"},
    )
    result = await provider.send_push(message)
    again = await provider.send_push(message)  # a retry of the same delivery to the device
    other = await provider.send_push(push(token))  # another delivery

    assert apns_server.problems == []  # HTTP/2, path, topic, push type, priority, JWT
    first, retry, another = apns_server.to(token)
    assert first.headers["apns-topic"] == APNS_TOPIC
    assert first.payload == {
        "aps": {"alert": {"title": "Reminder", "body": "Your call with Grace starts in 1 hour."}},
        "action_url": "https://app.example.com/calls/42",
        "call_id": "42",
    }
    # The apns-id is the delivery's to this device: the same on a retry, another otherwise.
    assert retry.headers["apns-id"] == first.headers["apns-id"] != another.headers["apns-id"]
    assert (result.provider, result.message_id) == ("apns", first.headers["apns-id"])
    assert again.message_id == result.message_id and other.message_id != result.message_id
    # One provider token for all three (Apple refuses renewals more often than 20 minutes).
    assert len(set(apns_server.provider_tokens)) == 1


async def test_the_data_cannot_replace_aps_and_an_icon_lets_an_extension_run(provider, apns_server):
    token = device_token()
    await provider.send_push(
        push(token, icon="https://cdn.example.com/i.png", data={"aps": "mine", "k": "v"})
    )
    [sent] = apns_server.to(token)
    assert sent.payload["aps"] == {
        "alert": {"title": "Reminder", "body": "Your call with Grace starts in 1 hour."},
        "mutable-content": 1,
    }
    assert sent.payload["icon"] == "https://cdn.example.com/i.png"
    assert sent.payload["k"] == "v"


async def test_the_provider_token_is_renewed_after_its_lifetime(provider, apns_server, monkeypatch):
    monkeypatch.setattr(apns, "TOKEN_LIFETIME", 0)  # every token at the end of its life
    await provider.send_push(push(device_token()))
    await provider.send_push(push(device_token()))
    assert apns_server.problems == []
    assert len(set(apns_server.provider_tokens)) == 2


@pytest.mark.parametrize(
    ("status", "reason"),
    [(410, "Unregistered"), (400, "BadDeviceToken")],
)
async def test_a_device_apple_calls_unknown_is_gone(provider, apns_server, status, reason):
    apns_server.script.append(ApnsAnswer(status, reason))
    with pytest.raises(DeviceGoneError) as raised:
        await provider.send_push(push(device_token()))
    assert raised.value.code == reason
    assert len(apns_server.requests) == 1


async def test_a_token_not_for_the_topic_is_refused_and_the_device_stays(provider, apns_server):
    """A wrong APNS_TOPIC answers this for every device: deactivating them would lose them all."""
    apns_server.script.append(ApnsAnswer(400, "DeviceTokenNotForTopic"))
    with pytest.raises(PermanentSendError) as raised:
        await provider.send_push(push(device_token()))
    assert not isinstance(raised.value, DeviceGoneError)
    assert raised.value.provider_fault


async def test_a_payload_too_large_is_permanent_and_the_device_stays(provider, apns_server):
    apns_server.script.append(ApnsAnswer(413, "PayloadTooLarge"))
    with pytest.raises(PermanentSendError) as raised:
        await provider.send_push(push(device_token()))
    assert not isinstance(raised.value, DeviceGoneError)
    assert not raised.value.provider_fault
    assert "PayloadTooLarge" in raised.value.message


async def test_too_many_requests_is_transient_with_its_retry_after(provider, apns_server):
    apns_server.script.append(ApnsAnswer(429, "TooManyRequests", {"retry-after": "3"}))
    with pytest.raises(TransientSendError) as raised:
        await provider.send_push(push(device_token()))
    assert raised.value.retry_after == 3.0
    assert not raised.value.provider_down


@pytest.mark.parametrize(
    ("status", "reason"), [(500, "InternalServerError"), (503, "ServiceUnavailable")]
)
async def test_apples_server_errors_are_transient(provider, apns_server, status, reason):
    apns_server.script.append(ApnsAnswer(status, reason))
    with pytest.raises(TransientSendError) as raised:
        await provider.send_push(push(device_token()))
    assert raised.value.provider_down


async def test_an_expired_provider_token_is_renewed_and_the_send_tried_again(provider, apns_server):
    await provider.send_push(push(device_token()))
    [old] = apns_server.provider_tokens
    apns_server.refuse_tokens.add(old)  # Apple: 403 ExpiredProviderToken

    token = device_token()
    result = await provider.send_push(push(token))

    assert apns_server.problems == []
    refused, retried = apns_server.to(token)
    assert apns_server.provider_tokens[1:] == [old, apns_server.provider_tokens[2]]
    assert apns_server.provider_tokens[2] != old
    assert result.message_id == retried.headers["apns-id"] == refused.headers["apns-id"]


async def test_a_provider_token_refused_twice_is_a_refusal_of_herald(provider, apns_server):
    apns_server.script.extend(ApnsAnswer(403, "InvalidProviderToken") for _ in range(3))
    with pytest.raises(PermanentSendError) as raised:
        await provider.send_push(push(device_token()))
    assert raised.value.provider_fault
    assert len(apns_server.requests) == 2  # the first try and one with a new token


async def test_a_timeout_is_transient(provider, apns_server):
    apns_server.delay = 1.5  # beyond the provider's 1 s timeout
    with pytest.raises(TransientSendError) as raised:
        await provider.send_push(push(device_token()))
    assert "timed out" in raised.value.message


def test_a_key_that_is_not_a_p8_key_is_refused_at_startup():
    with pytest.raises(ValueError, match="APNS_KEY"):
        DECLARATION.build(
            ProviderConfig(
                {
                    "apns_key": "not a key",
                    "apns_key_id": "K",
                    "apns_team_id": "T",
                    "apns_topic": APNS_TOPIC,
                    "apns_base_url": "https://127.0.0.1:1",
                }
            )
        )


# --- through the whole stack ---------------------------------------------------------------


async def test_a_push_reaches_the_apns_device_and_an_unregistered_one_is_deactivated(
    make_stack, temporal_env, apns_server, sessions
):
    kept_token, gone_token = device_token(), device_token()
    async with make_stack(temporal_env, **apns_server.settings()) as stack:
        external_id = await push_recipient(stack)
        kept = await add_device(sessions, stack.tenant_id, external_id, "apns", kept_token)
        gone = await add_device(sessions, stack.tenant_id, external_id, "apns", gone_token)
        apns_server.unregistered.add(gone_token)
        accepted = await stack.api.post("/v1/notifications", json=push_request(external_id))
        assert accepted.status_code == 202, accepted.text
        notification = await stack.wait_for_status(accepted.json()["id"], "sent")

    [delivery] = notification["deliveries"]
    assert apns_server.problems == []
    [sent] = apns_server.to(kept_token)
    assert sent.payload["aps"]["alert"]["body"] == "Your call with Grace starts in 1 hour."
    assert sent.payload["herald_delivery_id"] == delivery["id"]
    assert len(apns_server.to(gone_token)) == 1  # tried once, never retried
    assert await device_state(sessions, kept) == (True, None)
    active, reason = await device_state(sessions, gone)
    assert not active and "Unregistered" in str(reason)


async def test_apns_unavailable_is_retried_and_payload_too_large_fails_at_once(
    make_stack, temporal_env, apns_server, sessions
):
    async with make_stack(temporal_env, **apns_server.settings()) as stack:
        retried, refused = await push_recipient(stack), await push_recipient(stack)
        retried_token, refused_token = device_token(), device_token()
        await add_device(sessions, stack.tenant_id, retried, "apns", retried_token)
        await add_device(sessions, stack.tenant_id, refused, "apns", refused_token)

        apns_server.script.append(ApnsAnswer(503, "ServiceUnavailable"))
        first = await stack.api.post("/v1/notifications", json=push_request(retried))
        sent = await stack.wait_for_status(first.json()["id"], "sent")
        apns_server.script.append(ApnsAnswer(413, "PayloadTooLarge"))
        second = await stack.api.post("/v1/notifications", json=push_request(refused))
        failed = await stack.wait_for_status(second.json()["id"], "failed")

    assert sent["deliveries"][0]["retry_count"] == 1
    assert "PayloadTooLarge" in failed["deliveries"][0]["error"]
    # The 503 and its retry; the 413 once, never tried again.
    assert [len(apns_server.to(t)) for t in (retried_token, refused_token)] == [2, 1]


async def test_one_notification_reaches_both_the_fcm_and_the_apns_device(
    make_stack, temporal_env, apns_server, httpserver
):
    fcm_server = FcmServer(httpserver)
    settings = fcm_server.settings() | apns_server.settings()
    apple = device_token()
    async with make_stack(temporal_env, **settings) as stack:
        health = await stack.health_details()
        external_id = await push_recipient(stack)
        for kind, token in (("fcm", "android-token"), ("apns", apple)):  # the devices API
            registered = await stack.api.put(
                f"/v1/recipients/{external_id}/devices", json={"kind": kind, "token": token}
            )
            assert registered.status_code == 201, registered.text
        accepted = await stack.api.post("/v1/notifications", json=push_request(external_id))
        notification = await stack.wait_for_status(accepted.json()["id"], "sent")
        listed = (await stack.api.get(f"/v1/recipients/{external_id}/devices")).json()

    [delivery] = notification["deliveries"]
    assert fcm_server.problems == [] and apns_server.problems == []
    [android] = fcm_server.sends
    [iphone] = apns_server.to(apple)
    assert android.token == "android-token"
    for data in (android.message["data"], iphone.payload):
        assert data["herald_delivery_id"] == delivery["id"]
        assert data["call_id"] == "42"
    assert android.message["notification"]["body"] == iphone.payload["aps"]["alert"]["body"]
    assert android.message["notification"]["title"] == iphone.payload["aps"]["alert"]["title"]
    assert sorted((d["kind"], d["active"]) for d in listed["data"]) == [
        ("apns", True),
        ("fcm", True),
    ]
    # Both platforms configured from their settings (PUSH_PROVIDERS unset), secrets unshown.
    described = {p["name"]: p for p in health["providers"]["push"]["providers"]}
    assert {"apns", "fcm"} <= set(described)
    assert described["fcm"]["settings"]["FCM_SERVICE_ACCOUNT_JSON"] == "set"
    assert described["apns"]["settings"]["APNS_KEY"] == "set"
    assert described["apns"]["errors"]["Unregistered"] == "gone"
    assert fcm_server.key_file not in str(health) and apns_server.key_pem not in str(health)
