"""Which tenant an API key belongs to, remembered for a short while.

Authentication otherwise costs a database round trip on every request. Entries live
`ttl` seconds, so a revoked key stops working within that time on every API process.
"""

import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.tenants import key_digest, tenant_for_key
from domain.tenants import TenantIdentity


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


async def authenticate(
    sessions: async_sessionmaker[AsyncSession], cache: ApiKeyCache, key: str
) -> TenantIdentity | None:
    """The key's tenant, or None when the key is unknown or revoked."""
    tenant = cache.get(key)
    if tenant is not None:
        return tenant
    # Its own short session, so the route's session starts with no transaction open.
    async with sessions() as session:
        tenant = await tenant_for_key(session, key)
    if tenant is not None:
        cache.put(key, tenant)
    return tenant
