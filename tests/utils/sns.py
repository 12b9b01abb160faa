"""SNS messages signed as SNS signs them, with an RSA key and a certificate made here.

The string signed is written out here from AWS's documentation (not taken from domain/sns.py),
so the tests check Herald's against it."""

import base64
import datetime
import json
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:herald-ses-events"
_SIGNED = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": [
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ],
}
_SIGNED["UnsubscribeConfirmation"] = _SIGNED["SubscriptionConfirmation"]


def new_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signing_certificate(key: rsa.RSAPrivateKey, *, valid_days: float = 1) -> bytes:
    """A self-signed certificate of the key, as SNS serves its own at SigningCertURL (PEM);
    a negative `valid_days` makes one that has expired."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    start, end = sorted([now - datetime.timedelta(days=2), now + datetime.timedelta(valid_days)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def sign(
    message: dict[str, Any], key: rsa.RSAPrivateKey, cert_url: str, version: str = "1"
) -> dict[str, Any]:
    """The message with SignatureVersion, SigningCertURL and its Signature (SHA1withRSA for
    version 1, SHA256withRSA for 2) over its type's fields, those present, in order."""
    signed = "".join(
        f"{name}\n{message[name]}\n" for name in _SIGNED[message["Type"]] if name in message
    )
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(signed.encode(), padding.PKCS1v15(), algorithm)
    return {
        **message,
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
        "SigningCertURL": cert_url,
    }


def notification(published: str, topic_arn: str = TOPIC_ARN, **fields: Any) -> dict[str, Any]:
    """A Notification of `published` (unsigned: see sign)."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic_arn,
        "Message": published,
        "Timestamp": "2026-01-05T10:00:00.000Z",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        **fields,
    }


def subscription_confirmation(
    subscribe_url: str, topic_arn: str = TOPIC_ARN, kind: str = "SubscriptionConfirmation"
) -> dict[str, Any]:
    return {
        "Type": kind,
        "MessageId": str(uuid.uuid4()),
        "Token": uuid.uuid4().hex * 2,
        "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.",
        "SubscribeURL": subscribe_url,
        "Timestamp": "2026-01-05T10:00:00.000Z",
    }


def ses_event(
    event_type: str,
    *,
    message_id: str,
    delivery_id: str | None = None,
    **detail: Any,
) -> str:
    """An SES event as a configuration set publishes it (the Message of a Notification):
    `detail` is the object named after its type (delivery, bounce, complaint...)."""
    tags: dict[str, list[str]] = {"ses:configuration-set": ["herald-events"]}
    if delivery_id is not None:
        tags["herald_delivery_id"] = [delivery_id]
    detail_key = event_type[0].lower() + event_type[1:]
    return json.dumps(
        {
            "eventType": event_type,
            "mail": {
                "timestamp": "2026-01-05T09:59:58.000Z",
                "source": "notifications@herald.localhost",
                "messageId": message_id,
                "destination": ["ada@example.com"],
                "tags": tags,
            },
            detail_key: {"timestamp": "2026-01-05T10:00:00.000Z", **detail},
        }
    )
