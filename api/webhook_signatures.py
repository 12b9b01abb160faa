"""Checking that a webhook really comes from the provider, with the providers' own SDK code."""

import binascii
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
