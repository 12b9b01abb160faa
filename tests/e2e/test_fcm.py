"""FCM's HTTP v1 API, against a local server that plays Google's token endpoint (verifying the
service account's signed assertion) and FCM's messages:send (taking only granted tokens)."""

import time
import uuid

import pytest
from werkzeug import Response

from channels.base import DeviceGoneError, PermanentSendError, PushMessage, TransientSendError
from channels.declaration import ProviderConfig
from channels.fcm import DECLARATION
from domain.devices import PushDevice
from tests.e2e.push_servers import (
    FcmServer,
    add_device,
    device_state,
    fcm_error,
    push_recipient,
    push_request,
    service_account_key_file,
)


@pytest.fixture
def fcm_server(httpserver) -> FcmServer:
    return FcmServer(httpserver)


@pytest.fixture
async def fcm(fcm_server):
    provider = DECLARATION.build(ProviderConfig(fcm_server.settings(), timeout=1.0))
    yield provider
    await provider.close()


def push(token: str = "fcm-token-1", **fields) -> PushMessage:
    return PushMessage(
        device=PushDevice(str(uuid.uuid4()), "fcm", token),
        body=fields.pop("body", "Your call with Grace starts in 1 hour."),
        title=fields.pop("title", "Reminder"),
        reference=str(uuid.uuid4()),
        **fields,
    )


async def test_a_send_carries_the_notification_and_data_with_a_granted_token(fcm, fcm_server):
    result = await fcm.send_push(
        push(
            "token-a",
            icon="https://cdn.example.com/icon.png",
            action_url="https://app.example.com/calls/42",
            data={"call_id": "42"},
        )
    )
    second = await fcm.send_push(push("token-b"))

    assert fcm_server.problems == []
    assert [s.token for s in fcm_server.sends] == ["token-a", "token-b"]
    message = fcm_server.sends[0].message
    assert message["notification"] == {
        "title": "Reminder",
        "body": "Your call with Grace starts in 1 hour.",
        "image": "https://cdn.example.com/icon.png",
    }
    assert message["data"] == {"call_id": "42", "action_url": "https://app.example.com/calls/42"}
    # The name FCM gives the message is its id; one access token served both sends.
    assert (result.provider, result.message_id) == ("fcm", "projects/herald-test/messages/0:1")
    assert second.message_id == "projects/herald-test/messages/0:2"
    assert len(fcm_server.granted) == 1
    assert {s.access_token for s in fcm_server.sends} == set(fcm_server.granted)


async def test_a_token_near_its_expiry_is_renewed_before_a_send(httpserver):
    server = FcmServer(httpserver, expires_in=200)  # within the renewal margin at once
    provider = DECLARATION.build(ProviderConfig(server.settings(), timeout=1.0))
    try:
        await provider.send_push(push())
        await provider.send_push(push())
    finally:
        await provider.close()
    assert server.problems == []
    assert len(server.granted) == 2
    assert [s.access_token for s in server.sends] == server.granted


async def test_an_access_token_refused_with_401_is_renewed_once(fcm, fcm_server):
    await fcm.send_push(push())
    fcm_server.revoke()  # e.g. the key was rotated: FCM answers 401 UNAUTHENTICATED

    await fcm.send_push(push())

    assert fcm_server.refused_auth == 1
    assert len(fcm_server.granted) == 2
    assert fcm_server.sends[-1].access_token == fcm_server.granted[-1]


async def test_a_second_401_is_a_refusal_of_herald_not_retried_again(fcm, fcm_server):
    fcm_server.script.extend(
        fcm_error(401, "UNAUTHENTICATED", message="Request had invalid credentials.")
        for _ in range(3)
    )

    with pytest.raises(PermanentSendError) as raised:
        await fcm.send_push(push())

    assert raised.value.provider_fault
    assert len(fcm_server.sends) == 2  # the first try and the one after a new token
    assert len(fcm_server.granted) == 2


async def test_unregistered_means_the_device_is_gone(fcm, fcm_server):
    fcm_server.script.append(
        fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
    )
    with pytest.raises(DeviceGoneError) as raised:
        await fcm.send_push(push())
    assert raised.value.code == "UNREGISTERED"


async def test_an_invalid_token_means_the_device_is_gone(fcm, fcm_server):
    fcm_server.script.append(
        fcm_error(
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            token_violation=True,
        )
    )
    with pytest.raises(DeviceGoneError):
        await fcm.send_push(push("not-a-token"))


async def test_another_invalid_argument_is_permanent_and_the_device_stays(fcm, fcm_server):
    fcm_server.script.append(
        fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload received.")
    )
    with pytest.raises(PermanentSendError) as raised:
        await fcm.send_push(push())
    assert not isinstance(raised.value, DeviceGoneError)
    assert not raised.value.provider_fault  # the message's fault, not Herald's account
    assert "Invalid JSON payload" in raised.value.message


async def test_sender_id_mismatch_is_a_refusal_of_herald(fcm, fcm_server):
    fcm_server.script.append(
        fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch")
    )
    with pytest.raises(PermanentSendError) as raised:
        await fcm.send_push(push())
    assert raised.value.provider_fault
    assert not isinstance(raised.value, DeviceGoneError)


async def test_quota_exceeded_is_transient_with_fcms_retry_after(fcm, fcm_server):
    fcm_server.script.append(
        fcm_error(
            429,
            "RESOURCE_EXHAUSTED",
            "QUOTA_EXCEEDED",
            "Quota exceeded for the device.",
            headers={"Retry-After": "7"},
        )
    )
    with pytest.raises(TransientSendError) as raised:
        await fcm.send_push(push())
    assert raised.value.retry_after == 7.0
    assert not raised.value.provider_down  # flow control from a service that is up


@pytest.mark.parametrize(
    ("status", "rpc_status"), [(503, "UNAVAILABLE"), (500, "INTERNAL")], ids=["503", "500"]
)
async def test_unavailable_and_internal_are_transient(fcm, fcm_server, status, rpc_status):
    fcm_server.script.append(fcm_error(status, rpc_status, rpc_status, "try again"))
    with pytest.raises(TransientSendError) as raised:
        await fcm.send_push(push())
    assert raised.value.provider_down


async def test_a_timeout_is_transient(fcm, fcm_server):
    def slow(_request) -> Response:
        time.sleep(1.5)  # beyond the provider's 1 s timeout
        return Response("{}", status=200, content_type="application/json")

    fcm_server.script.append(slow)
    with pytest.raises(TransientSendError) as raised:
        await fcm.send_push(push())
    assert "timed out" in raised.value.message


async def test_a_service_account_the_token_endpoint_refuses_is_herald_refused(httpserver):
    server = FcmServer(httpserver)
    # Another key than the one Google knows: its assertion does not verify.
    settings = server.settings() | {"fcm_service_account_json": service_account_key_file()}
    provider = DECLARATION.build(ProviderConfig(settings, timeout=1.0))
    try:
        with pytest.raises(PermanentSendError) as raised:
            await provider.send_push(push())
    finally:
        await provider.close()
    assert raised.value.provider_fault
    assert server.sends == [] and len(server.problems) == 1


# --- through the whole stack ---------------------------------------------------------------


@pytest.fixture
async def fcm_stack(make_stack, temporal_env, fcm_server):
    async with make_stack(temporal_env, **fcm_server.settings()) as stack:
        yield stack


async def test_a_push_reaches_the_fcm_device_and_a_gone_one_is_deactivated(
    fcm_stack, fcm_server, sessions
):
    external_id = await push_recipient(fcm_stack)
    kept = await add_device(sessions, fcm_stack.tenant_id, external_id, "fcm", "token-kept")
    gone = await add_device(sessions, fcm_stack.tenant_id, external_id, "fcm", "token-gone")

    def answer(request):
        if request.get_json()["message"]["token"] == "token-gone":
            return fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
        return Response('{"name": "projects/herald-test/messages/0:77"}', status=200)

    fcm_server.script.extend([answer, answer])
    accepted = await fcm_stack.api.post("/v1/notifications", json=push_request(external_id))
    assert accepted.status_code == 202, accepted.text

    notification = await fcm_stack.wait_for_status(accepted.json()["id"], "sent")
    [delivery] = notification["deliveries"]
    assert delivery["channel"] == "push"
    assert fcm_server.problems == []
    assert sorted(s.token for s in fcm_server.sends) == ["token-gone", "token-kept"]
    [sent] = [s.message for s in fcm_server.sends if s.token == "token-kept"]
    assert sent["notification"]["body"] == "Your call with Grace starts in 1 hour."
    assert sent["data"]["call_id"] == "42"
    assert sent["data"]["herald_delivery_id"] == delivery["id"]
    assert await device_state(sessions, kept) == (True, None)
    active, reason = await device_state(sessions, gone)
    assert not active and "UNREGISTERED" in str(reason)


async def test_fcm_quota_exceeded_is_retried_after_its_retry_after(fcm_stack, fcm_server, sessions):
    external_id = await push_recipient(fcm_stack)
    await add_device(sessions, fcm_stack.tenant_id, external_id, "fcm", "token-busy")
    fcm_server.script.append(
        fcm_error(
            429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "slow down", headers={"Retry-After": "2"}
        )
    )
    accepted = await fcm_stack.api.post("/v1/notifications", json=push_request(external_id))

    notification = await fcm_stack.wait_for_status(accepted.json()["id"], "sent")
    assert notification["deliveries"][0]["retry_count"] == 1
    first, second = fcm_server.sends
    assert second.at - first.at >= 1.9  # the configured backoff alone would wait 0.1 s
