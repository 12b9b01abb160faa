"""Who is asking: the tenant an API key belongs to."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class TenantIdentity:
    id: uuid.UUID
    name: str
