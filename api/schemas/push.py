"""Web Push: what the widget subscribes a browser with."""

from pydantic import BaseModel, Field


class PushPublicKey(BaseModel):
    public_key: str = Field(
        description="Herald's VAPID public key (RFC 8292): base64url of the uncompressed P-256 "
        "point, the `applicationServerKey` for `pushManager.subscribe`.",
        examples=[
            "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
        ],
    )
