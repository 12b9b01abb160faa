"""Bodies of /v1/settings/inbox: the tenant's inbox settings and its signing secrets."""

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictInt, field_validator

from api.schemas.common import InputModel
from api.schemas.pages import Page
from domain.inbox_tokens import (
    DEFAULT_OVERLAP_SECONDS,
    MAX_OVERLAP_SECONDS,
    MAX_TOKEN_TTL_SECONDS,
    MIN_TOKEN_TTL_SECONDS,
)

MAX_ORIGINS = 50
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(value: str) -> str:
    """`scheme://host[:port]` as a browser sends it in `Origin`: lower case, no default port,
    so that a listed origin matches the header byte for byte."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError("must be scheme://host[:port], e.g. https://app.example.com") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("must be http:// or https:// and a host, e.g. https://app.example.com")
    if parts.username or parts.password or parts.path or parts.query or parts.fragment:
        raise ValueError("must be scheme://host[:port] alone: no path, query, user or final /")
    if "*" in parts.hostname:
        raise ValueError("must name one origin: no wildcard")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"  # IPv6
    shown_port = f":{port}" if port is not None and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{shown_port}"


Origin = Annotated[str, Field(max_length=300), AfterValidator(_origin)]


class InboxSettingsPublic(BaseModel):
    allowed_origins: list[str] = Field(
        description="The origins whose pages may call /v1/inbox from a browser (CORS)."
    )
    hmac_enabled: bool = Field(
        description="Whether the HMAC scheme (X-Herald-Recipient-Hmac) is accepted."
    )
    token_ttl_seconds: int = Field(description="How long the tokens Herald issues live.")


class InboxSettingsPatch(InputModel):
    """The fields given change; those left out stay as they are."""

    allowed_origins: list[Origin] | None = Field(
        default=None,
        max_length=MAX_ORIGINS,
        description="Replaces the list: each `scheme://host[:port]`, http or https.",
        examples=[["https://app.example.com", "http://localhost:3000"]],
    )
    hmac_enabled: StrictBool | None = None
    token_ttl_seconds: StrictInt | None = Field(
        default=None, ge=MIN_TOKEN_TTL_SECONDS, le=MAX_TOKEN_TTL_SECONDS
    )

    @field_validator("allowed_origins", "hmac_enabled", "token_ttl_seconds", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Left out, a field stays as it is; null is no value for any of them."""
        if value is None:
            raise ValueError("may not be null: leave the field out to keep it as it is")
        return value


class SigningSecretCreate(InputModel):
    overlap_seconds: StrictInt = Field(
        default=DEFAULT_OVERLAP_SECONDS,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="How long the previous newest secret stays valid beside the new one "
        "(at most 30 days); 0 ends it at once.",
    )


class SigningSecretPublic(BaseModel):
    """A secret as listings show it: never the secret."""

    kid: str = Field(description="The JWT header `kid` of the tokens it signs.")
    created_at: datetime
    expires_at: datetime | None = Field(
        description="When a rotation ends it (the overlap); null: no end set."
    )
    revoked_at: datetime | None


class SigningSecretCreated(SigningSecretPublic):
    secret: str = Field(description="Shown this once. The HMAC-SHA256 key, used as it is.")
    tenant_id: uuid.UUID = Field(
        description="The tenant's id: a self-signed token's `tid`, the HMAC scheme's "
        "X-Herald-Tenant."
    )
    previous: SigningSecretPublic | None = Field(
        description="The secret this one replaces, with when it stops working."
    )


class SigningSecretsPublic(Page[SigningSecretPublic]):
    pass
