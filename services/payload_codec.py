"""The Temporal Web UI's codec endpoint: it sends the payloads of a history it shows, Herald
answers them decrypted (or encrypted), in the codec server's JSON form
(`{"payloads": [{"metadata": {...}, "data": "<base64>"}]}`)."""

from functools import lru_cache
from typing import Any, Literal

from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from temporalio.api.common.v1 import Payloads

from services.errors import NotFound, invalid_field
from temporal_clients.payload_codec import EncryptionCodec, PayloadKeyError, parse_keys


@lru_cache(maxsize=4)
def _codec(keys: str) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(keys))


async def transcode(
    keys: str | None, body: dict[str, Any], direction: Literal["encode", "decode"]
) -> dict[str, Any]:
    if not keys:
        raise NotFound("payload encryption is off (no PAYLOAD_ENCRYPTION_KEYS): nothing to decode")
    try:
        payloads = ParseDict(body, Payloads()).payloads
    except ParseError as exc:
        raise invalid_field("payloads", f"not the codec server's JSON form: {exc}") from exc
    codec = _codec(keys)
    try:
        done = await (codec.encode(payloads) if direction == "encode" else codec.decode(payloads))
    except PayloadKeyError as exc:
        raise invalid_field("payloads", str(exc)) from exc
    return MessageToDict(Payloads(payloads=done))
