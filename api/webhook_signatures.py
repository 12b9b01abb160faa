"""Checking that a webhook really comes from the provider, with the providers' own SDK code."""

import binascii
import hashlib
import hmac
from collections.abc import Mapping
from functools import lru_cache

from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator


class NotConfigured(Exception):
    """The secret or key to check this provider's signatures is missing or unusable."""


def twilio_signature_valid(
    auth_token: str, url: str, params: dict[str, str], signature: str
) -> bool:
    """HMAC-SHA1 of the URL Twilio called and the sorted form fields, keyed with the auth token.
    (Twilio signs the public URL, so `url` must be the one given to Twilio, not ours behind a
    proxy.)"""
    return RequestValidator(auth_token).validate(url, params, signature)


@lru_cache(maxsize=4)
def _sendgrid_verifier(public_key: str) -> EventWebhook:
    try:
        return EventWebhook(public_key)
    except ValueError as exc:
        raise NotConfigured("SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 DER public key") from exc


def sendgrid_signature_valid(public_key: str, body: bytes, signature: str, timestamp: str) -> bool:
    """ECDSA P-256 / SHA-256 over the timestamp header followed by the raw body.

    No freshness window on the timestamp: a replayed batch changes nothing, as every event
    id is applied once, and SendGrid itself redelivers a refused batch for hours."""
    verifier = _sendgrid_verifier(public_key)
    try:
        return verifier.verify_signature(body.decode("utf-8"), signature, timestamp)
    except (UnicodeDecodeError, binascii.Error, ValueError):  # not even well-formed
        return False


# A signed call older (or further ahead) than this is refused: a replay of a captured call.
MAX_SIGNATURE_AGE_SECONDS = 300


def mailgun_signature_valid(
    signing_key: str, timestamp: str, token: str, signature: str, now: float
) -> bool:
    """Hex HMAC-SHA256 of the timestamp followed by the token, keyed with the account's HTTP
    webhook signing key, and the timestamp within MAX_SIGNATURE_AGE_SECONDS of `now`. (A replay
    within that window repeats its token, the event id: applied once.)"""
    if not _fresh(timestamp, now):
        return False
    expected = hmac.new(signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest().encode(), signature.lower().encode())


def vonage_signature_valid(secret: str, method: str, params: Mapping[str, str], now: float) -> bool:
    """Vonage's signed webhooks: every parameter but `sig`, sorted by name, as
    "&name=value" (a value's "&" and "=" replaced by "_"), hashed by `method`: an HMAC keyed with
    the signature secret (md5, sha1, sha256, sha512), or "md5hash", the MD5 of that string
    followed by the secret. The `timestamp` parameter must be within MAX_SIGNATURE_AGE_SECONDS
    of `now`."""
    signature = params.get("sig")
    if not signature or not _fresh(params.get("timestamp"), now):
        return False
    signed = "".join(
        f"&{name}={value.replace('&', '_').replace('=', '_')}"
        for name, value in sorted(params.items())
        if name != "sig"
    ).encode()
    if method == "md5hash":
        # Vonage's default method: not an HMAC, but its scheme.
        expected = hashlib.md5(signed + secret.encode(), usedforsecurity=False).hexdigest()
    else:
        expected = hmac.new(secret.encode(), signed, method).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.lower().encode())


def _fresh(timestamp: str | None, now: float) -> bool:
    try:
        return abs(now - int(timestamp or "")) <= MAX_SIGNATURE_AGE_SECONDS
    except ValueError:
        return False
