"""herald_client.webhooks.verify against what Herald's signing code (domain/standard_webhooks)
produces, so the two cannot drift: valid messages pass, with one secret or two during a
rotation, and the body reads as the event domain/status_webhooks builds; tampering, another
secret, a stale timestamp and missing headers are refused."""

import json
import time
from datetime import UTC, datetime

import pytest
from herald_client import webhooks
from herald_client.webhooks import WebhookVerificationError

from domain import standard_webhooks, status_webhooks

# The body as Herald's status webhooks build it (domain/status_webhooks.payload).
EVENT = status_webhooks.payload(
    "delivery.failed",
    {
        "delivery_id": "5b1f0c2e-8f43-4a57-9b65-0d8fd0c5f6a1",
        "status": "failed",
        "status_reason": "mailbox unavailable",
        "recipient": {"id": "r-1", "external_id": "user-42"},
        "updated_at": "2026-11-30T11:59:58+00:00",
    },
    datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
)


def signed(*secrets: str, body: bytes | None = None, at: int | None = None) -> tuple[dict, bytes]:
    raw = body if body is not None else json.dumps(EVENT).encode()
    stamp = at if at is not None else int(time.time())
    return standard_webhooks.headers(secrets[0], "msg_2Kx", stamp, raw, *secrets[1:]), raw


def test_a_message_herald_signs_verifies_and_reads_as_an_event():
    secret = standard_webhooks.new_secret()
    headers, body = signed(secret)
    event = webhooks.verify(secret, headers, body)
    assert (event.id, event.type, event.data) == ("msg_2Kx", "delivery.failed", EVENT["data"])
    assert event.timestamp.isoformat() == EVENT["timestamp"]
    # Header names in any case (frameworks differ), the body as text or bytes.
    upper = {name.upper(): value for name, value in headers.items()}
    assert webhooks.verify([secret], upper, body.decode()).id == "msg_2Kx"
    # The same signature as Herald's own function computes.
    stamp = int(headers["webhook-timestamp"])
    assert webhooks.sign(secret, "msg_2Kx", stamp, body) == headers["webhook-signature"]


def test_during_a_rotation_either_secret_verifies():
    old, new = standard_webhooks.new_secret(), standard_webhooks.new_secret()
    headers, body = signed(new, old)  # Herald signs with both for a day
    assert len(headers["webhook-signature"].split()) == 2
    assert webhooks.verify(old, headers, body).type == "delivery.failed"  # not switched yet
    assert webhooks.verify(new, headers, body).type == "delivery.failed"  # switched
    assert webhooks.verify([new, old], headers, body).type == "delivery.failed"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("tampered body", "no signature matches"),
        ("another secret", "no signature matches"),
        ("stale", "too old"),
        ("from the future", "too new"),
        ("no signature", "are required"),
        ("signed but not an event", "not a status event"),
    ],
)
def test_refusals(case, message):
    secret = standard_webhooks.new_secret()
    headers, body = signed(secret)
    now = int(time.time())
    if case == "tampered body":
        body = body.replace(b"failed", b"delivered")
    elif case == "another secret":
        secret = standard_webhooks.new_secret()
    elif case == "stale":
        headers, body = signed(secret, at=now - webhooks.TOLERANCE_SECONDS - 5)
    elif case == "from the future":
        headers, body = signed(secret, at=now + webhooks.TOLERANCE_SECONDS + 5)
    elif case == "no signature":
        del headers["webhook-signature"]
    elif case == "signed but not an event":
        headers, body = signed(secret, body=b'["not", "an", "event"]')
    with pytest.raises(WebhookVerificationError, match=message):
        webhooks.verify(secret, headers, body)
    # Herald's own verifier agrees on every signature refusal.
    if case != "signed but not an event":
        with pytest.raises(standard_webhooks.SignatureError):
            standard_webhooks.verify([secret], headers, body, now)
