"""Bodies of /v1/api-keys. Only `ApiKeyCreated` carries a key, once: Herald keeps its digest."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from api.schemas.common import InputModel
from api.schemas.pages import Page

MAX_GRACE_SECONDS = 7 * 24 * 3600

# Printable: a name is shown in listings and terminals.
KeyName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^\P{C}+$")
]


class ApiKeyCreate(InputModel):
    name: KeyName = Field(default="default", description="What the key is for, e.g. 'billing'.")


class ApiKeyRotate(InputModel):
    grace_seconds: StrictInt = Field(
        default=0,
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="How long the old key keeps working beside the new one (at most 7 days); "
        "0 revokes it at once.",
    )


class ApiKeyPublic(BaseModel):
    """A key as listings show it: never the key, never its digest."""

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="To the minute: stamped at most once a minute per key and API process."
    )
    revoked_at: datetime | None = Field(
        description="When the key stopped (or, in a rotation's grace period, stops) working."
    )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="Shown this once: Herald stores only its SHA-256 digest.")


class ApiKeysPublic(Page[ApiKeyPublic]):
    pass


class ApiKeyRotation(BaseModel):
    created: ApiKeyCreated
    revoked: ApiKeyPublic = Field(description="The old key, with when it stops working.")
