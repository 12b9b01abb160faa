"""Encryption of every payload Herald hands to Temporal: workflow and activity inputs and
results, signals, queries, updates, memos, and failure messages (which can quote an address).

AES-256-GCM with a random 96-bit nonce per payload. Each encrypted payload names the id of the
key that encrypted it, so keys rotate without re-encrypting history: PAYLOAD_ENCRYPTION_KEYS
lists `id:base64key` pairs, the first encrypts, all of them decrypt. Search attributes are not
payloads Temporal lets a codec touch: Herald's carry ids and statuses, never an address.

With no keys configured (development), payloads go to Temporal as they are."""

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyError(ValueError):
    """The keys setting is malformed, or a payload names a key this process does not hold."""


def parse_keys(text: str) -> dict[str, bytes]:
    """`id:base64key,id2:base64key2` -> {id: key}, in order (the first encrypts). Each key is
    32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)."""
    keys: dict[str, bytes] = {}
    for number, entry in enumerate(e.strip() for e in text.split(",") if e.strip()):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise PayloadKeyError(f"key {number + 1}: expected `id:base64key`")
        if key_id in keys:
            raise PayloadKeyError(f"key id {key_id!r} appears twice")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as exc:
            raise PayloadKeyError(f"key {key_id!r}: not base64") from exc
        if len(key) != 32:
            raise PayloadKeyError(f"key {key_id!r}: {len(key)} bytes, AES-256 needs 32")
        keys[key_id] = key
    if not keys:
        raise PayloadKeyError("no key given")
    return keys


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes]) -> None:
        self._current = next(iter(keys))
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(f"payload encrypted with key {key_id!r}, which is not configured")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        except InvalidTag as exc:
            raise PayloadKeyError(f"payload does not decrypt with key {key_id!r}") from exc
        return Payload.FromString(plain)


def data_converter(encryption_keys: str | None) -> DataConverter:
    """The converter of every Temporal client Herald makes: encrypting when keys are given."""
    if not encryption_keys:
        return DataConverter.default
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=EncryptionCodec(parse_keys(encryption_keys)),
        # A failure's message and stack trace go into its encoded attributes, so the codec
        # encrypts them too (a provider's refusal can quote the address).
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
