"""Which tenant an API key belongs to, remembered for a short while; and when a key was last used.

Authentication otherwise costs a database round trip on every request. An entry lives `ttl`
seconds (API_KEY_CACHE_SECONDS), so a key revoked through another process, or by SQL, stops
working on every API process within that time; the process that revokes a key forgets it at once
(`forget`), and an entry never outlives a rotated key's grace period.

`last_used_at` is stamped in the background, at most once per `last_used_every` seconds per key
and process: a write per request would cost more than the authentication it records, and a
failed stamp must never fail the request that caused it.
"""

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.api_keys import KeyOwner, key_digest, key_owner, record_last_use
from domain.tenants import TenantIdentity

log = logging.getLogger("herald.auth")

LAST_USED_EVERY = 60.0  # seconds: the precision of `last_used_at`
SHUTDOWN_WAIT = 2.0  # seconds a stopping process gives its last stamps before dropping them


@dataclass(frozen=True)
class _Entry:
    owner: KeyOwner
    expires: float  # time.monotonic()


class ApiKeyCache:
    """One API process's memory of keys, by digest (never the key itself), and of when it last
    stamped each key's `last_used_at`."""

    def __init__(
        self, ttl: float, last_used_every: float = LAST_USED_EVERY, max_entries: int = 10_000
    ):
        self._ttl = ttl
        self._last_used_every = last_used_every
        self._max = max_entries
        self._entries: dict[bytes, _Entry] = {}
        self._stamped: dict[uuid.UUID, float] = {}
        self._stamping: set[asyncio.Task[None]] = set()

    def get(self, digest: bytes) -> KeyOwner | None:
        entry = self._entries.get(digest)
        if entry is None or entry.expires <= time.monotonic():
            return None
        return entry.owner

    def put(self, digest: bytes, owner: KeyOwner) -> None:
        lifetime = self._ttl
        if owner.expires_at is not None:  # in a rotation's grace period: no longer than it lasts
            lifetime = min(lifetime, (owner.expires_at - datetime.now(UTC)).total_seconds())
        if lifetime <= 0:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[digest] = _Entry(owner, time.monotonic() + lifetime)

    def forget(self, digest: bytes) -> None:
        self._entries.pop(digest, None)

    def note_use(self, key_id: uuid.UUID, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Stamp the key's `last_used_at` in the background, if this process has not within
        `last_used_every` seconds. A failed stamp is tried again at the first use after that."""
        now = time.monotonic()
        last = self._stamped.get(key_id)
        if last is not None and now - last < self._last_used_every:
            return
        if len(self._stamped) >= self._max:
            self._stamped.clear()
        self._stamped[key_id] = now
        task = asyncio.create_task(self._stamp(key_id, sessions))
        self._stamping.add(task)  # a task nothing refers to may be collected before it runs
        task.add_done_callback(self._stamping.discard)

    async def _stamp(self, key_id: uuid.UUID, sessions: async_sessionmaker[AsyncSession]) -> None:
        try:
            async with sessions.begin() as session:
                await record_last_use(session, key_id, self._last_used_every)
        except Exception as exc:  # the request it records has been answered; nothing to fail
            log.warning("last_used_at of API key %s not recorded: %s", key_id, exc)

    async def close(self) -> None:
        """Let the stamps in flight finish (briefly) before the process's engine goes away."""
        if not self._stamping:
            return
        _, late = await asyncio.wait(set(self._stamping), timeout=SHUTDOWN_WAIT)
        for task in late:
            task.cancel()


async def authenticate(
    sessions: async_sessionmaker[AsyncSession], cache: ApiKeyCache, key: str
) -> TenantIdentity | None:
    """The key's tenant, or None when the key is unknown, revoked or past its grace period."""
    owner = await authenticate_key(sessions, cache, key)
    return None if owner is None else owner.tenant


async def authenticate_key(
    sessions: async_sessionmaker[AsyncSession], cache: ApiKeyCache, key: str
) -> KeyOwner | None:
    """Which key it is and whose (`authenticate`), for what records who asked."""
    digest = key_digest(key)  # the key itself is kept nowhere, not even in the cache
    owner = cache.get(digest)
    if owner is None:
        # Its own short session, so the route's session starts with no transaction open.
        async with sessions() as session:
            owner = await key_owner(session, digest)
        if owner is None:
            return None
        cache.put(digest, owner)
    cache.note_use(owner.key_id, sessions)
    return owner
