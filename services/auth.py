"""A short-lived, in-process memory of which tenant an API key belongs to.

Authentication otherwise costs a database round trip on every request. Entries live
`ttl` seconds, so a revoked key stops working within that time on every API process.
"""

import time

from db.tenants import TenantIdentity, key_digest


class ApiKeyCache:
    def __init__(self, ttl: float, max_entries: int = 10_000):
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[bytes, tuple[float, TenantIdentity]] = {}

    def get(self, key: str) -> TenantIdentity | None:
        digest = key_digest(key)  # never keep the key itself in memory longer than the request
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, tenant: TenantIdentity) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key_digest(key)] = (time.monotonic() + self._ttl, tenant)
