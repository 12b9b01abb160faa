"""Bodies of POST /v1/recipients/{external_id}/token: a recipient token for the inbox."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, StrictInt

from api.schemas.common import InputModel
from domain.inbox_tokens import MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS


class RecipientTokenRequest(InputModel):
    ttl_seconds: StrictInt | None = Field(
        default=None,
        ge=MIN_TOKEN_TTL_SECONDS,
        le=MAX_TOKEN_TTL_SECONDS,
        description="How long the token lives, 60 s to 24 h; left out, the tenant's "
        "`token_ttl_seconds` (GET /v1/settings/inbox; 3600 by default).",
    )


class RecipientToken(BaseModel):
    token: str = Field(
        description="A JWT (HS256) for `Authorization: Bearer` on /v1/inbox routes: claims "
        "`sub` (the recipient's external id), `tid`, `iat`, `exp`, `aud` = herald-inbox."
    )
    expires_at: datetime
    recipient_id: uuid.UUID
    tenant_id: uuid.UUID
