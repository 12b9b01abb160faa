"""Standard Webhooks signing (domain/standard_webhooks.py), against the specification's own
published test vector."""

import base64

import pytest

from domain.standard_webhooks import (
    KEY_BYTES,
    SECRET_PREFIX,
    TOLERANCE_SECONDS,
    SignatureError,
    headers,
    new_secret,
    signature,
    verify,
)

# The vector of the specification's reference libraries (standard-webhooks/standard-webhooks,
# libraries/python/tests/test_webhooks.py, test_sign_function): key, id, time and body, and
# the signature they must give.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_vector_is_signed_as_published():
    assert signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    # The whsec_ prefix is optional: the key is the base64 after it.
    bare = VECTOR_SECRET.removeprefix(SECRET_PREFIX)
    assert signature(bare, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_vectors_headers_verify():
    sent = headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert sent == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    verify([VECTOR_SECRET], sent, VECTOR_BODY, now=VECTOR_TIMESTAMP)
    # Header names are case-insensitive, as HTTP's are.
    shouting = {name.upper(): value for name, value in sent.items()}
    verify([VECTOR_SECRET], shouting, VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda h, b: (h, b + b" "), "no signature matches"),  # the body changed
        (lambda h, b: (h | {"webhook-id": "msg_other"}, b), "no signature matches"),
        (lambda h, b: (h | {"webhook-signature": "v2," + h["webhook-signature"][3:]}, b), "no "),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "required"),
        (lambda h, b: (h | {"webhook-timestamp": "soon"}, b), "required"),
        (lambda h, b: (h | {"webhook-signature": ""}, b), "required"),
    ],
)
def test_a_changed_message_does_not_verify(change, problem):
    sent = headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    changed_headers, changed_body = change(sent, VECTOR_BODY)
    with pytest.raises(SignatureError, match=problem):
        verify([VECTOR_SECRET], changed_headers, changed_body, now=VECTOR_TIMESTAMP)


def test_another_secret_does_not_verify():
    sent = headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    with pytest.raises(SignatureError, match="no signature matches"):
        verify([new_secret()], sent, VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize("offset", [-TOLERANCE_SECONDS, 0, TOLERANCE_SECONDS])
def test_a_timestamp_within_the_tolerance_verifies(offset):
    sent = headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    verify([VECTOR_SECRET], sent, VECTOR_BODY, now=VECTOR_TIMESTAMP + offset)


@pytest.mark.parametrize("offset", [-TOLERANCE_SECONDS - 1, TOLERANCE_SECONDS + 1, 86_400])
def test_a_timestamp_past_the_tolerance_does_not(offset):
    """A replay of an old message, or one stamped ahead, is refused (5 minutes either way)."""
    sent = headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    with pytest.raises(SignatureError, match="too old or too new"):
        verify([VECTOR_SECRET], sent, VECTOR_BODY, now=VECTOR_TIMESTAMP + offset)


def test_during_a_rotation_either_secret_verifies():
    """A receiver switching secrets holds both: a message signed by the old or the new verifies,
    and a message carrying several signatures (space separated) verifies by any one of them."""
    old, new = new_secret(), new_secret()
    for signer in (old, new):
        sent = headers(signer, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
        verify([old, new], sent, VECTOR_BODY, now=VECTOR_TIMESTAMP)
        with pytest.raises(SignatureError):
            verify([old if signer is new else new], sent, VECTOR_BODY, now=VECTOR_TIMESTAMP)

    both = " ".join(signature(s, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) for s in (old, new))
    twice_signed = headers(old, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) | {
        "webhook-signature": f"v1a,ignored {both}"
    }
    verify([new], twice_signed, VECTOR_BODY, now=VECTOR_TIMESTAMP)
    verify([old], twice_signed, VECTOR_BODY, now=VECTOR_TIMESTAMP)
    with pytest.raises(SignatureError):
        verify([new_secret()], twice_signed, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_a_new_secret_is_whsec_and_32_random_bytes():
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)) == KEY_BYTES


def test_a_secret_that_is_not_base64_is_refused():
    with pytest.raises(SignatureError, match="whsec_"):
        signature("whsec_not base64!", VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
