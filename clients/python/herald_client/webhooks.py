"""Verifying Herald's status webhooks (Standard Webhooks, https://www.standardwebhooks.com/).

    event = webhooks.verify(secret, request.headers, request.body)   # raw bytes, unparsed
    if event.type == "delivery.failed": ...

Herald signs `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 under the endpoint's
`whsec_...` secret and sends `webhook-signature: v1,<base64>`; during a secret rotation it
signs with both (space-separated), so pass both secrets until the old one is retired.
Ordering is not promised: compare `event.data["updated_at"]` to discard stale news, and use
`event.id` (the webhook-id, the same on every retry) to skip a message already handled.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pydantic

from herald_client.models.base import Output

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    """Not a message Herald signed with one of these secrets, recently: answer 400 or 401."""


class WebhookEvent(Output):
    id: str  # the webhook-id header: the same for every retry of this message
    type: str  # delivery.sent, delivery.delivered, delivery.failed, ... broadcast.completed
    timestamp: datetime
    data: dict[str, Any]


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise WebhookVerificationError("the secret is not whsec_ and base64") from exc


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` signature Herald sends for this message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secrets: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> WebhookEvent:
    """The event, if `body` carries a valid signature by one of `secrets` with a timestamp
    within `tolerance` seconds of `now` (an old message replayed fails); else raises
    WebhookVerificationError. `headers`: any mapping (names in any case)."""
    raw = body.encode() if isinstance(body, str) else body
    lower = {name.lower(): value for name, value in headers.items()}
    message_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp", "")
    offered = lower.get("webhook-signature", "").split()
    if not message_id or not stamp.isdigit() or not offered:
        raise WebhookVerificationError(
            "webhook-id, webhook-timestamp and webhook-signature are required"
        )
    timestamp = int(stamp)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookVerificationError("the timestamp is too old or too new")
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    if not any(
        hmac.compare_digest(sign(secret, message_id, timestamp, raw), offer)
        for secret in candidates
        for offer in offered
    ):
        raise WebhookVerificationError("no signature matches")
    try:
        payload = json.loads(raw)
        return WebhookEvent.model_validate({**payload, "id": message_id})
    except (ValueError, TypeError, pydantic.ValidationError) as exc:
        raise WebhookVerificationError(f"signed, but not a status event: {exc}") from exc
