"""POST /v1/codec/decode and /v1/codec/encode: the codec endpoint of the Temporal Web UI
(TEMPORAL_CODEC_ENDPOINT=https://<herald>/v1/codec), so people with the operator's token see
decrypted payloads in the UI. Payloads stay encrypted at the Temporal server."""

from typing import Any

from fastapi import APIRouter, Body

from api.deps import OperatorDep, SettingsDep
from services.payload_codec import transcode

router = APIRouter(prefix="/v1/codec", tags=["operations"])

Payloads = dict[str, Any]


@router.post("/decode")
async def decode_payloads(
    _: OperatorDep, settings: SettingsDep, body: Payloads = Body(...)
) -> Payloads:
    """Payloads as Temporal stores them -> as Herald wrote them."""
    return await transcode(_keys(settings), body, "decode")


@router.post("/encode")
async def encode_payloads(
    _: OperatorDep, settings: SettingsDep, body: Payloads = Body(...)
) -> Payloads:
    """Payloads -> encrypted with the current key (the UI uses it to send signals)."""
    return await transcode(_keys(settings), body, "encode")


def _keys(settings) -> str | None:
    keys = settings.payload_encryption_keys
    return keys.get_secret_value() if keys else None
