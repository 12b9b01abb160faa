"""What a push device's token must look like, per kind, and the one form it is stored in.

A token is one device (per tenant and kind): registering it again refreshes that device. So a
token is stored in a canonical form, in which the same device is always written the same way:
an APNs token in lower case, a Web Push subscription as compact JSON with sorted keys and its
keys' base64url without padding. Each check raises ValueError saying what is wrong; the API
names the field (api/schemas/devices.py).
"""

import base64
import binascii
import json
import re
from urllib.parse import urlsplit

MAX_ACTIVE_DEVICES = 20  # a recipient's; one more replaces the least recently seen
REPLACED_REASON = f"replaced: more than {MAX_ACTIVE_DEVICES} devices"

MAX_ENDPOINT_CHARS = 2048
MAX_FCM_TOKEN_CHARS = 4096
P256DH_BYTES = 65  # an uncompressed P-256 point: 0x04, x, y (RFC 8291)
AUTH_BYTES = 16  # the authentication secret (RFC 8291)
MIN_APNS_HEX, MAX_APNS_HEX = 64, 200  # 32 bytes today; Apple says not to rely on the length

_FCM_TOKEN = re.compile(r"[A-Za-z0-9_:-]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def check_fcm_token(token: str) -> str:
    if len(token) > MAX_FCM_TOKEN_CHARS:
        raise ValueError(f"an FCM token has at most {MAX_FCM_TOKEN_CHARS} characters")
    if not _FCM_TOKEN.fullmatch(token):
        raise ValueError("an FCM token has only letters, digits and _ : -")
    return token


def check_apns_token(token: str) -> str:
    if not _HEX.fullmatch(token) or len(token) % 2:
        raise ValueError("an APNs device token is hexadecimal, two digits a byte")
    if not MIN_APNS_HEX <= len(token) <= MAX_APNS_HEX:
        raise ValueError(f"an APNs device token has {MIN_APNS_HEX} to {MAX_APNS_HEX} hex digits")
    return token.lower()


def check_push_endpoint(endpoint: str) -> str:
    """A push service's URL, as the browser's subscription gives it."""
    if len(endpoint) > MAX_ENDPOINT_CHARS:
        raise ValueError(f"at most {MAX_ENDPOINT_CHARS} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in endpoint):
        raise ValueError("must be a URL without spaces or control characters")
    try:
        parts = urlsplit(endpoint)
        host, _ = parts.hostname, parts.port  # a port that is not a number is a ValueError
    except ValueError:
        raise ValueError("must be a URL") from None
    if parts.scheme != "https" or not host:
        raise ValueError("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    return endpoint


def check_p256dh(key: str) -> str:
    decoded = _base64url(key, P256DH_BYTES)
    if decoded[0] != 0x04:
        raise ValueError("must be an uncompressed P-256 public key (starting with byte 0x04)")
    return key.rstrip("=")


def check_auth_secret(secret: str) -> str:
    _base64url(secret, AUTH_BYTES)
    return secret.rstrip("=")


def _base64url(value: str, size: int) -> bytes:
    if not _BASE64URL.fullmatch(value):
        raise ValueError("must be base64url (letters, digits, - and _)")
    bare = value.rstrip("=")
    try:
        decoded = base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("must be base64url") from None
    if len(decoded) != size:
        raise ValueError(f"must decode to {size} bytes, not {len(decoded)}")
    return decoded


def webpush_token(endpoint: str, p256dh: str, auth: str) -> str:
    """A Web Push subscription as stored: what pywebpush's `subscription_info` takes, as JSON."""
    subscription = {"endpoint": endpoint, "keys": {"auth": auth, "p256dh": p256dh}}
    return json.dumps(subscription, sort_keys=True, separators=(",", ":"))


def endpoint_origin(token: str) -> str | None:
    """The origin of a stored Web Push subscription's endpoint (which push service it is):
    what the API shows of it. The rest of the endpoint is the device's address."""
    try:
        parts = urlsplit(json.loads(token)["endpoint"])
    except (ValueError, KeyError, TypeError):
        return None
    return f"{parts.scheme}://{parts.netloc}"
