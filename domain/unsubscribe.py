"""Signed unsubscribe tokens: which recipient of which tenant leaves which category.

The token is the payload plus an HMAC-SHA256 over it, so it cannot be forged, nor edited to
unsubscribe someone else: the recipient is inside what is signed.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Unsubscribe:
    tenant_id: str
    recipient_id: str
    category: str
    channel: str = "email"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"herald-unsubscribe:" + payload, hashlib.sha256).digest()


def sign(key: bytes, request: Unsubscribe) -> str:
    payload = "|".join(
        (request.tenant_id, request.recipient_id, request.category, request.channel)
    ).encode()
    return f"{_b64(payload)}.{_b64(_signature(key, payload))}"


def verify(key: bytes, token: str) -> Unsubscribe:
    try:
        encoded_payload, encoded_signature = token.split(".")
        payload, signature = _unb64(encoded_payload), _unb64(encoded_signature)
    except ValueError:
        raise InvalidToken("malformed") from None
    if not hmac.compare_digest(signature, _signature(key, payload)):
        raise InvalidToken("bad signature")
    parts = payload.decode().split("|")
    if len(parts) != 4:
        raise InvalidToken("malformed")
    return Unsubscribe(*parts)


def unsubscribe_url(base_url: str, key: bytes, request: Unsubscribe) -> str:
    return f"{base_url.rstrip('/')}/v1/unsubscribe/{sign(key, request)}"
