"""SNS message signatures (domain/sns.py): what verifies, what does not, and which URLs are
SNS's. Messages are signed by tests/utils/sns.py, which writes the signed string itself."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from domain.provider_events import MalformedEvent
from domain.sns import SNS_HOST_PATTERN, on_sns_host, signature_valid, sns_message, string_to_sign
from tests.utils.sns import (
    new_signing_key,
    notification,
    sign,
    signing_certificate,
    subscription_confirmation,
)

KEY = new_signing_key()
CERTIFICATE = x509.load_pem_x509_certificate(signing_certificate(KEY))
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"
NOW = datetime.now(UTC)


def verifies(document: dict, certificate: x509.Certificate = CERTIFICATE) -> bool:
    return signature_valid(sns_message(document), certificate, NOW)


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("subject", [None, "Amazon SES Email Event Notification"])
def test_a_signed_notification_verifies(version, subject):
    fields = {"Subject": subject} if subject else {}
    message = notification('{"eventType": "Delivery"}', **fields)
    assert verifies(sign(message, KEY, CERT_URL, version))


@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_a_signed_confirmation_verifies(kind):
    message = subscription_confirmation("https://sns.us-east-1.amazonaws.com/?Token=x", kind=kind)
    assert verifies(sign(message, KEY, CERT_URL, "2"))


@pytest.mark.parametrize("field", ["Message", "MessageId", "Subject", "Timestamp", "TopicArn"])
def test_a_changed_signed_field_fails(field):
    signed = sign(notification("{}", Subject="hello"), KEY, CERT_URL)
    assert not verifies({**signed, field: signed[field] + "x"})


@pytest.mark.parametrize("field", ["SubscribeURL", "Token"])
def test_a_changed_confirmation_field_fails(field):
    message = subscription_confirmation("https://sns.us-east-1.amazonaws.com/?Token=x")
    signed = sign(message, KEY, CERT_URL)
    assert not verifies({**signed, field: signed[field] + "x"})


def test_a_subject_added_or_removed_after_signing_fails():
    with_subject = sign(notification("{}", Subject="hello"), KEY, CERT_URL)
    without = sign(notification("{}"), KEY, CERT_URL)
    assert not verifies({k: v for k, v in with_subject.items() if k != "Subject"})
    assert not verifies({**without, "Subject": "hello"})


def test_an_unsigned_field_may_change():
    signed = sign(notification("{}"), KEY, CERT_URL)
    assert verifies({**signed, "UnsubscribeURL": "https://elsewhere.example/"})


def test_another_key_or_another_version_fails():
    other = sign(notification("{}"), new_signing_key(), CERT_URL)
    assert not verifies(other)
    signed_sha256 = sign(notification("{}"), KEY, CERT_URL, "2")
    assert not verifies({**signed_sha256, "SignatureVersion": "1"})
    assert not verifies({**signed_sha256, "SignatureVersion": "3"})
    assert not verifies({**signed_sha256, "Signature": "not base64!"})
    assert not verifies({**signed_sha256, "Signature": ""})


def test_an_expired_or_not_rsa_certificate_fails():
    signed = sign(notification("{}"), KEY, CERT_URL)
    expired = x509.load_pem_x509_certificate(signing_certificate(KEY, valid_days=-1))
    assert not verifies(signed, expired)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_certificate = (
        x509.CertificateBuilder()
        .subject_name(CERTIFICATE.subject)
        .issuer_name(CERTIFICATE.subject)
        .public_key(ec_key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(ec_key, hashes.SHA256())
    )
    assert not verifies(signed, ec_certificate)


def test_the_string_signed():
    document = sign(notification('{"a": 1}', MessageId="m-1", Timestamp="T"), KEY, CERT_URL)
    assert string_to_sign(sns_message(document)) == (
        b'Message\n{"a": 1}\nMessageId\nm-1\nTimestamp\nT\n'
        b"TopicArn\narn:aws:sns:us-east-1:123456789012:herald-ses-events\nType\nNotification\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-3.amazonaws.com:443/SimpleNotificationService-abc.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        "https://sns.us-gov-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=x",
    ],
)
def test_sns_hosts(url):
    assert on_sns_host(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/cert.pem",  # not https
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/cert.pem",
        "https://evil.example\\@sns.us-east-1.amazonaws.com/cert.pem",
        "https://evil.example#@sns.us-east-1.amazonaws.com/cert.pem",
        "https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/cert.pem",
        "https://xsns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com./cert.pem",
        "https://sns.amazonaws.com/cert.pem",
        "https://[::1]/cert.pem",
        "file:///etc/passwd",
        "",
    ],
)
def test_other_hosts_are_not_sns(url):
    assert not on_sns_host(url)


def test_a_test_pattern_trusts_its_own_host_only():
    assert on_sns_host("https://localhost:8443/cert.pem", r"^localhost$")
    assert not on_sns_host("http://localhost:8443/cert.pem", r"^localhost$")
    assert not on_sns_host("https://sns.us-east-1.amazonaws.com/cert.pem", r"^localhost$")
    assert SNS_HOST_PATTERN.startswith("^")


@pytest.mark.parametrize(
    "document,problem",
    [
        ([], "a JSON object"),
        ({"Type": "Other"}, "Type must be one of"),
        ({**notification("{}"), "Message": {"eventType": "Delivery"}}, "Message: a Notification"),
        ({k: v for k, v in notification("{}").items() if k != "MessageId"}, "MessageId"),
        ({**notification("{}"), "SignatureVersion": "1"}, "Signature: every SNS message"),
    ],
)
def test_malformed_messages(document, problem):
    with pytest.raises(MalformedEvent, match=problem):
        sns_message(json.loads(json.dumps(document)))
