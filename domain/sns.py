"""Amazon SNS's HTTP(S) messages and their signatures (pure: no I/O, no clock).

SES publishes its events to an SNS topic, and SNS posts each one to Herald as a JSON document
signed with the private key of a certificate it publishes at `SigningCertURL`. The signature
is the only credential, so a message is trusted when:
- its certificate comes from an https URL on an SNS host (`sns.<region>.amazonaws.com`):
  anyone can publish a certificate elsewhere and sign with its key;
- its signature (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) verifies with that
  certificate, over the canonical string of the fields its type signs, while the certificate
  is valid.
A SubscriptionConfirmation's SubscribeURL is followed only on the same hosts, so a forged
confirmation cannot make Herald call anywhere else.
"""

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from domain.provider_events import MalformedEvent

# The hosts SNS serves its signing certificates and subscription URLs from (the China
# regions' end in .amazonaws.com.cn).
SNS_HOST_PATTERN = r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
_CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
# The fields each type signs, in the order SNS writes them into the string it signs.
SIGNED_FIELDS = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: _CONFIRMATION_FIELDS,
    UNSUBSCRIBE_CONFIRMATION: _CONFIRMATION_FIELDS,
}
OPTIONAL_FIELDS = frozenset({"Subject"})
SIGNATURE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
# host[:port], nothing else: no user info or backslash that two URL parsers could read as
# different hosts (this check's and the HTTP client's).
_AUTHORITY = re.compile(r"(?P<host>[a-z0-9.-]+)(?::[0-9]{1,5})?")


@dataclass(frozen=True)
class SnsMessage:
    type: str
    message_id: str
    topic_arn: str
    message: str  # a Notification's: what was published (an SES event, as JSON)
    signature_version: str
    signature: str  # base64
    signing_cert_url: str
    subscribe_url: str | None  # confirmations only
    signed: Mapping[str, str]  # the fields the signature covers, those present


def sns_message(document: Any) -> SnsMessage:
    """A message as SNS posts it (its JSON, parsed). Raises MalformedEvent when it lacks a
    field every message of its type carries."""
    if not isinstance(document, dict):
        raise MalformedEvent("an SNS message is a JSON object")
    kind = document.get("Type")
    if kind not in SIGNED_FIELDS:
        raise MalformedEvent(f"Type must be one of {', '.join(SIGNED_FIELDS)}")
    signed = {}
    for name in SIGNED_FIELDS[kind]:
        value = document.get(name)
        if value is None and name in OPTIONAL_FIELDS:
            continue
        if not isinstance(value, str):
            raise MalformedEvent(f"{name}: a {kind} carries it as a string")
        signed[name] = value
    for name in ("SignatureVersion", "Signature", "SigningCertURL"):
        if not isinstance(document.get(name), str):
            raise MalformedEvent(f"{name}: every SNS message carries it as a string")
    return SnsMessage(
        type=kind,
        message_id=signed["MessageId"],
        topic_arn=signed["TopicArn"],
        message=signed["Message"],
        signature_version=document["SignatureVersion"],
        signature=document["Signature"],
        signing_cert_url=document["SigningCertURL"],
        subscribe_url=signed.get("SubscribeURL"),
        signed=signed,
    )


def string_to_sign(message: SnsMessage) -> bytes:
    """Each signed field present, in order, as its name and its value, each on a line."""
    return "".join(
        f"{name}\n{message.signed[name]}\n"
        for name in SIGNED_FIELDS[message.type]
        if name in message.signed
    ).encode()


def on_sns_host(url: str, host_pattern: str = SNS_HOST_PATTERN) -> bool:
    """The URL is https on a host the pattern matches (SNS's own, unless a test says else)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    authority = _AUTHORITY.fullmatch(parts.netloc)
    return (
        parts.scheme == "https"
        and authority is not None
        and re.fullmatch(host_pattern, authority["host"]) is not None
    )


def signature_valid(message: SnsMessage, certificate: x509.Certificate, now: datetime) -> bool:
    """The message's signature verifies with the certificate's RSA key, by its version's hash,
    and the certificate is valid at `now`."""
    algorithm = SIGNATURE_HASHES.get(message.signature_version)
    key = certificate.public_key()
    if algorithm is None or not isinstance(key, rsa.RSAPublicKey):
        return False
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return False
    try:
        signature = base64.b64decode(message.signature, validate=True)
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
