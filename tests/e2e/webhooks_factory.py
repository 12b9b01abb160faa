"""Signed provider webhooks for the tests: Twilio's signature with the SDK's own code, SendGrid's
with an ECDSA P-256 key pair made here (the public half configured as SendGrid shows it)."""

import base64
import json
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

from db.models import Delivery
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_http_providers import (
    SID,
    TWILIO_MESSAGES,
    sendgrid_accepts,
    sms_request,
    twilio_accepts,
)

TWILIO_TOKEN = "twilio-auth-token-for-tests"
TWILIO_PATH = "/v1/webhooks/twilio/status"
SENDGRID_PATH = "/v1/webhooks/sendgrid/events"

SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())


def public_key_as_sendgrid_shows_it(private_key: ec.EllipticCurvePrivateKey) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def tracking_settings(httpserver) -> dict:
    base = httpserver.url_for("").rstrip("/")
    return dict(
        sendgrid_api_key="SG.test-key",
        sendgrid_base_url=base,
        sendgrid_webhook_public_key=public_key_as_sendgrid_shows_it(SENDGRID_KEY),
        twilio_account_sid=SID,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_from_number="+15005550006",
        twilio_base_url=base,
    )


def sendgrid_headers(body: bytes, key: ec.EllipticCurvePrivateKey = SENDGRID_KEY) -> dict:
    timestamp = str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def sendgrid_event(
    kind: str, delivery: dict | None = None, message_id: str | None = None, **fields
) -> dict:
    """One event as SendGrid posts it: its own id, the message id with SendGrid's suffix, and
    the custom arg the send set (left out when `delivery` is None)."""
    if not message_id:
        assert delivery is not None, "a message id, or the delivery that has one"
        message_id = delivery["provider_message_id"]
    event = {
        "email": "ada@example.com",
        "timestamp": int(time.time()),
        "event": kind,
        "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": f"{message_id}.filterdrecv-p3mdgm1-1.0",
        **fields,
    }
    if delivery is not None:
        event["herald_delivery_id"] = delivery["id"]
    return event


async def post_sendgrid(stack, events, headers: dict | None = None):
    body = json.dumps(events).encode()
    return await stack.api.post(
        SENDGRID_PATH, content=body, headers=headers or sendgrid_headers(body)
    )


async def post_twilio(stack, form: dict, token: str = TWILIO_TOKEN, signature: str | None = None):
    url = stack.settings.public_base_url + TWILIO_PATH
    signature = (
        signature if signature is not None else RequestValidator(token).compute_signature(url, form)
    )
    return await stack.api.post(TWILIO_PATH, data=form, headers={"X-Twilio-Signature": signature})


async def send_email_through_sendgrid(
    stack, httpserver, address: str | None = None, **request
) -> dict:
    """A notification sent through SendGrid (answering the local server); its delivery."""
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_response(
        sendgrid_accepts(uuid.uuid4().hex)
    )
    body = email_request(address or f"{uuid.uuid4().hex[:8]}@example.com", **request)
    accepted = (await stack.api.post("/v1/notifications", json=body)).json()
    [delivery] = (await stack.wait_for_status(accepted["id"], "sent"))["deliveries"]
    return delivery


async def send_sms_through_twilio(stack, httpserver) -> dict:
    httpserver.expect_oneshot_request(TWILIO_MESSAGES).respond_with_response(
        twilio_accepts("SM" + uuid.uuid4().hex)
    )
    accepted = (await stack.api.post("/v1/notifications", json=sms_request())).json()
    [delivery] = (await stack.wait_for_status(accepted["id"], "sent"))["deliveries"]
    return delivery


async def delivery_row(sessions, delivery: dict) -> Delivery:
    """The delivery as stored now (provider_response included)."""
    async with sessions() as session:
        return await session.get(Delivery, uuid.UUID(delivery["id"]), populate_existing=True)
