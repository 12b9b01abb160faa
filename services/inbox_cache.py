"""One API process's short memory of what checking a recipient token reads: signing secrets,
tenants' inbox settings and recipients' ids.

Without it every inbox request, and every one of thousands of streams opening at once, would read
the secret, the settings and the recipient from the database before doing anything. An entry
lives `ttl` seconds (API_KEY_CACHE_SECONDS, as API keys do), so a secret revoked or rotated
through another process stops working on every API process within that time; the process that
revokes or rotates it forgets it at once, and an entry never outlives its secret's `expires_at`
(a rotation's overlap). Recipients are never deleted (only with their tenant), so a recipient's
id cannot go stale.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from domain.inbox_tokens import InboxSettings

Key = TypeVar("Key")
Value = TypeVar("Value")


@dataclass(frozen=True)
class Secret:
    """A valid signing secret, in clear: only ever in this process's memory."""

    kid: str
    tenant_id: uuid.UUID
    value: str
    expires_at: datetime | None  # the end of a rotation's overlap; None: no end set


class TtlMap(Generic[Key, Value]):
    def __init__(self, ttl: float, max_entries: int = 10_000):
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[Key, tuple[Value, float]] = {}

    def get(self, key: Key) -> Value | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def put(self, key: Key, value: Value, until: datetime | None = None) -> None:
        """Remember `value` for the TTL, and not past `until` (wall clock) when given."""
        lifetime = self._ttl
        if until is not None:
            lifetime = min(lifetime, (until - datetime.now(UTC)).total_seconds())
        if lifetime <= 0:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (value, time.monotonic() + lifetime)

    def forget(self, key: Key) -> None:
        self._entries.pop(key, None)


class InboxAuthCache:
    def __init__(self, ttl: float):
        self.secrets: TtlMap[str, Secret] = TtlMap(ttl)  # by kid
        self.tenant_secrets: TtlMap[uuid.UUID, tuple[Secret, ...]] = TtlMap(ttl)
        self.settings: TtlMap[uuid.UUID, InboxSettings] = TtlMap(ttl)
        self.recipients: TtlMap[tuple[uuid.UUID, str], uuid.UUID] = TtlMap(ttl)

    def forget_secrets(self, tenant_id: uuid.UUID, *kids: str) -> None:
        """After a rotation or a revocation on this process: read again at the next use."""
        self.tenant_secrets.forget(tenant_id)
        for kid in kids:
            self.secrets.forget(kid)
