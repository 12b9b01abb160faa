"""Signing per the Standard Webhooks specification (https://www.standardwebhooks.com/).

A secret is `whsec_` and base64 of its key bytes. A message is signed over
`{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256; `webhook-signature` carries
`v1,<base64 signature>`, several separated by spaces while a secret rotates. A receiver checks
the timestamp is within TOLERANCE_SECONDS of its clock (replays of old messages fail).
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300
KEY_BYTES = 32


class SignatureError(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as exc:
        raise SignatureError("the secret is not whsec_ and base64") from exc


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` signature of `body` sent as message `message_id` at `timestamp`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secret: str, message_id: str, timestamp: int, body: bytes, *also: str
) -> dict[str, str]:
    """The three headers; `also`: more secrets that sign too (a rotation's previous one)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(s, message_id, timestamp, body) for s in (secret, *also)
        ),
    }


def verify(secrets_: list[str], headers_: dict[str, str], body: bytes, now: int) -> None:
    """Raises SignatureError unless `body` carries a valid signature by one of `secrets_`
    (a rotation's old and new) with a timestamp within TOLERANCE_SECONDS of `now`."""
    lower = {k.lower(): v for k, v in headers_.items()}
    message_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp", "")
    offered = lower.get("webhook-signature", "").split()
    if not message_id or not stamp.isdigit() or not offered:
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are required")
    timestamp = int(stamp)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("the timestamp is too old or too new")
    for secret in secrets_:
        expected = signature(secret, message_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError("no signature matches")
