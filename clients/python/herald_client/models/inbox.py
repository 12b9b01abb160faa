"""A recipient's inbox token (api/schemas/recipient_tokens.py)."""

import uuid
from datetime import datetime

from herald_client.models.base import Input, Output


class RecipientTokenRequest(Input):
    ttl_seconds: int | None = None  # 60 s to 24 h; none: the tenant's token_ttl_seconds


class RecipientToken(Output):
    """A JWT for `Authorization: Bearer` on /v1/inbox routes and the widget: give it to that
    recipient's browser, never the API key."""

    token: str
    expires_at: datetime
    recipient_id: uuid.UUID
    tenant_id: uuid.UUID
