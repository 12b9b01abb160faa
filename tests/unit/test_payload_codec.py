"""The payload codec: AES-256-GCM per payload, keys by id, rotation, tampering refused."""

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload

from temporal_clients.payload_codec import (
    ENCODING,
    EncryptionCodec,
    PayloadKeyError,
    data_converter,
    parse_keys,
)


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_payload_round_trips_and_is_unreadable_in_between():
    codec = EncryptionCodec(parse_keys(f"k1:{key()}"))
    original = payload("ada@example.com")
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata["encryption-key-id"] == b"k1"
    assert b"ada@example.com" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [original]
    # a fresh nonce each time: the same payload never encrypts to the same bytes
    assert (await codec.encode([original]))[0].data != sealed.data


async def test_rotation_the_new_key_encrypts_the_old_one_still_decrypts():
    old, new = key(), key()
    [before] = await EncryptionCodec(parse_keys(f"old:{old}")).encode([payload("x")])
    rotated = EncryptionCodec(parse_keys(f"new:{new},old:{old}"))
    [after] = await rotated.encode([payload("y")])
    assert after.metadata["encryption-key-id"] == b"new"
    assert await rotated.decode([before, after]) == [payload("x"), payload("y")]
    with pytest.raises(PayloadKeyError, match="key 'old', which is not configured"):
        await EncryptionCodec(parse_keys(f"new:{new}")).decode([before])


async def test_tampered_or_foreign_payloads_are_refused_and_plain_ones_pass():
    codec = EncryptionCodec(parse_keys(f"k1:{key()}"))
    [sealed] = await codec.encode([payload("x")])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(PayloadKeyError, match="does not decrypt"):
        await codec.decode([flipped])
    with pytest.raises(PayloadKeyError, match="does not decrypt"):
        await EncryptionCodec(parse_keys(f"k1:{key()}")).decode([sealed])  # same id, other key
    assert await codec.decode([payload("old history")]) == [payload("old history")]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "no key given"),
        ("k1", "expected `id:base64key`"),
        (":abc", "expected `id:base64key`"),
        ("k1:not base64!", "not base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "5 bytes, AES-256 needs 32"),
        ("k1:{k},k1:{k}", "appears twice"),
    ],
)
def test_malformed_keys_are_named(text, problem):
    with pytest.raises(PayloadKeyError, match=problem):
        parse_keys(text.format(k=key()))


def test_no_keys_no_encryption():
    assert data_converter(None).payload_codec is None
    assert data_converter(f"k1:{key()}").payload_codec is not None
