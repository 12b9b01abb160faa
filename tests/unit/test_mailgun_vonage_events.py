"""Mailgun's webhook events and Vonage's delivery receipts in Herald's terms, and the checks of
their signatures."""

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from api.webhook_signatures import mailgun_signature_valid, vonage_signature_valid
from domain.provider_events import MalformedEvent, from_mailgun, from_vonage
from domain.types import DeliveryStatus

NOW = 1767225600.0  # 2026-01-01 00:00:00 UTC


def mailgun(kind: str, **fields) -> dict:
    return {
        "signature": {"timestamp": "1767225600", "token": "tok-1", "signature": "..."},
        "event-data": {
            "event": kind,
            "timestamp": 1767225600.25,
            "message": {"headers": {"message-id": "<d-1@herald.localhost>"}},
            "user-variables": {"herald_delivery_id": "d-1"},
            **fields,
        },
    }


def test_a_mailgun_event_carries_both_references_its_token_and_its_time():
    event = from_mailgun(mailgun("delivered"))
    assert (event.message_id, event.delivery_id, event.event_id) == (
        "d-1@herald.localhost",
        "d-1",
        "tok-1",
    )
    assert event.occurred_at == datetime(2026, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)
    assert event.status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    "kind,status",
    [
        ("accepted", "sent"),
        ("delivered", "delivered"),
        ("opened", "opened"),
        ("clicked", "clicked"),
        ("rejected", "failed"),
    ],
)
def test_mailgun_statuses(kind, status):
    assert from_mailgun(mailgun(kind)).status == status


@pytest.mark.parametrize(
    "reason,invalid",
    [
        ("bounce", "hard bounce: 550 5.1.1 mailbox does not exist"),
        ("suppress-bounce", "dropped by mailgun: the address bounced before"),
        ("old", None),  # undeliverable for too long: the address may be fine
        ("espblock", None),
    ],
)
def test_a_permanent_failure_bounces_and_only_a_hard_bounce_condemns_the_address(reason, invalid):
    status = {"code": 550, "message": "5.1.1 mailbox does not exist"}
    event = from_mailgun(
        mailgun("failed", severity="permanent", reason=reason, **{"delivery-status": status})
    )
    assert event.status == DeliveryStatus.BOUNCED
    assert event.invalid_address == invalid
    assert event.error == f"mailgun failed: {reason}; 550; 5.1.1 mailbox does not exist"


def test_a_temporary_failure_is_not_acted_on():
    event = from_mailgun(mailgun("failed", severity="temporary", reason="generic"))
    assert event.status is None and not event.known


@pytest.mark.parametrize("kind", ["complained", "unsubscribed"])
def test_a_complaint_or_unsubscribe_is_an_opt_out(kind):
    event = from_mailgun(mailgun(kind))
    assert event.opt_out and event.status is None


@pytest.mark.parametrize(
    "body", [{}, {"event-data": []}, {"event-data": {"event": 3}}, {"event-data": {}}]
)
def test_a_mailgun_body_without_its_event_is_malformed(body):
    with pytest.raises(MalformedEvent):
        from_mailgun(body)


@pytest.mark.parametrize(
    "vonage,herald",
    [
        ("accepted", "sent"),
        ("buffered", "sent"),
        ("delivered", "delivered"),
        ("expired", "failed"),
        ("failed", "failed"),
        ("rejected", "failed"),
    ],
)
def test_vonage_statuses(vonage, herald):
    event = from_vonage({"messageId": "0A1", "status": vonage, "client-ref": "d-1"})
    assert (event.status, event.delivery_id, event.message_id) == (herald, "d-1", "0A1")


def test_a_vonage_dead_number_is_invalid_and_an_absent_one_is_not():
    dead = from_vonage({"messageId": "0A1", "status": "failed", "err-code": "4"})
    assert dead.error == "vonage failed: error 4 (call barred by user)"
    assert dead.invalid_address == "vonage error 4: call barred by user"
    absent = from_vonage({"messageId": "0A1", "status": "failed", "err-code": "2"})
    assert absent.status == DeliveryStatus.FAILED and absent.invalid_address is None


def test_a_vonage_receipt_without_message_id_is_malformed():
    with pytest.raises(MalformedEvent):
        from_vonage({"status": "delivered"})


def mailgun_signature(key: str, timestamp: str, token: str) -> str:
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "timestamp,valid",
    [("1767225600", True), ("1767225300", True), ("1767225299", False), ("1767225901", False)],
)
def test_a_mailgun_signature_holds_for_five_minutes(timestamp, valid):
    signature = mailgun_signature("key", timestamp, "tok")
    assert mailgun_signature_valid("key", timestamp, "tok", signature, NOW) is valid


def test_a_mailgun_signature_of_another_key_or_token_is_refused():
    signature = mailgun_signature("key", "1767225600", "tok")
    assert not mailgun_signature_valid("other", "1767225600", "tok", signature, NOW)
    assert not mailgun_signature_valid("key", "1767225600", "tok2", signature, NOW)
    assert not mailgun_signature_valid("key", "1767225600", "tok", "ünïcode", NOW)


RECEIPT = {
    "messageId": "0A1",
    "status": "delivered",
    "client-ref": "a&b=c",
    "timestamp": "1767225600",
}
# Sorted, each value's "&" and "=" replaced by "_": what Vonage signs.
SIGNED = "&client-ref=a_b_c&messageId=0A1&status=delivered&timestamp=1767225600"


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_a_vonage_hmac_signature_is_checked_by_its_method(method):
    sig = hmac.new(b"secret", SIGNED.encode(), method).hexdigest()
    assert vonage_signature_valid("secret", method, {**RECEIPT, "sig": sig}, NOW)
    assert vonage_signature_valid("secret", method, {**RECEIPT, "sig": sig.upper()}, NOW)
    assert not vonage_signature_valid("other", method, {**RECEIPT, "sig": sig}, NOW)


def test_a_vonage_md5_hash_signature_is_the_md5_of_the_parameters_and_secret():
    sig = hashlib.md5((SIGNED + "secret").encode()).hexdigest()
    assert vonage_signature_valid("secret", "md5hash", {**RECEIPT, "sig": sig}, NOW)
    assert not vonage_signature_valid("secret", "sha256", {**RECEIPT, "sig": sig}, NOW)


def test_a_vonage_receipt_without_sig_or_fresh_timestamp_is_refused():
    sig = hmac.new(b"secret", SIGNED.encode(), "sha256").hexdigest()
    assert not vonage_signature_valid("secret", "sha256", RECEIPT, NOW)
    assert not vonage_signature_valid("secret", "sha256", {**RECEIPT, "sig": sig}, NOW + 301)
