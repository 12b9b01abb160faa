"""Personal data in Temporal: with PAYLOAD_ENCRYPTION_KEYS set, the histories the Temporal server
keeps hold no address, no name and no message text, failures included; the codec endpoint shows
them decrypted to the operator only."""

import base64
import os
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from google.protobuf.json_format import MessageToDict
from pydantic import SecretStr
from temporalio.client import Client

from temporal_clients.payload_codec import data_converter
from tests.conftest import OPERATOR
from tests.e2e.bookings_factory import booking_event, new_booking_id
from tests.e2e.test_email_smtp import email_request

KEYS = f"k1:{base64.b64encode(os.urandom(32)).decode()}"


def encrypting(env) -> SimpleNamespace:
    """The test server's environment, its client encrypting as Herald's do with KEYS."""
    plain: Client = env.client
    client = Client(
        plain.service_client, namespace=plain.namespace, data_converter=data_converter(KEYS)
    )
    return SimpleNamespace(client=client)


async def raw_history(temporal_env, workflow_id: str) -> bytes:
    """The history as the server stores it, read with a client that has no key."""
    history = await temporal_env.client.get_workflow_handle(workflow_id).fetch_history()
    return b"".join(event.SerializeToString() for event in history.events)


async def test_histories_hold_no_personal_data(make_stack, temporal_env, smtp):
    address = f"grace-{uuid.uuid4().hex[:8]}@example.com"
    refused = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    smtp.refused_addresses[refused] = f"550 5.1.1 <{refused}>: no such user"  # quoted back
    settings = {"payload_encryption_keys": SecretStr(KEYS)}
    async with make_stack(encrypting(temporal_env), **settings) as stack:
        body = email_request(address)
        body["recipient"]["name"] = "Grace Hopper"
        body["context"]["message"] = "Your secret order 7781"
        sent = (await stack.api.post("/v1/notifications", json=body)).json()
        failed = (await stack.api.post("/v1/notifications", json=email_request(refused))).json()
        booking_id = new_booking_id()
        start = datetime.now(UTC) + timedelta(days=2)
        event = booking_event("booking.created", booking_id, start, invitee_email=address)
        assert (await stack.api.post("/v1/events", json=event)).status_code == 202
        await stack.wait_for_status(sent["id"], "sent")
        await stack.wait_for_status(failed["id"], "failed")

        histories = {
            "notification": await raw_history(temporal_env, sent["workflow_id"]),
            "failed notification": await raw_history(temporal_env, failed["workflow_id"]),
            "booking chain": await raw_history(
                temporal_env, f"booking-{stack.tenant_id}-{booking_id}"
            ),
        }
        for name, raw in histories.items():
            for secret in (address, refused, "Grace Hopper", "secret order 7781"):
                assert secret.encode() not in raw, f"{secret!r} in the {name}'s history"
            assert b"binary/encrypted" in raw, name

        # The Web UI's codec endpoint decrypts for the operator, and for no one else.
        handle = temporal_env.client.get_workflow_handle(sent["workflow_id"])
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        request = MessageToDict(started.input)
        refused_answer = await stack.api.post("/v1/codec/decode", json=request)
        assert refused_answer.status_code in (401, 403)
        decoded = await stack.api.post("/v1/codec/decode", json=request, headers=OPERATOR)
        assert decoded.status_code == 200, decoded.text
        [plain] = decoded.json()["payloads"]
        assert sent["id"] in base64.b64decode(plain["data"]).decode()
