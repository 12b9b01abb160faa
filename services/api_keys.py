"""A tenant's API keys: create, list, revoke, rotate. The API (a tenant's key manages that
tenant's keys) and the `herald key` command both come here.

- A key is shown once, in what `create_key` and `rotate_key` return; nothing else returns or
  logs it, and only its digest is stored.
- Revoking the tenant's last active key is refused (409 `last_api_key`) unless `force`: it would
  lock out every client of the tenant, the caller included, until an operator runs
  `herald key create`.
- Rotating creates a key of the same name and revokes the old one, at once or after a grace
  period of up to 7 days (`grace_seconds`) so that clients can be moved over without downtime.
- A revoked key stops working at once on the process that revoked it (`cache`), and within
  API_KEY_CACHE_SECONDS on every other one (services/auth.py).
- A key created or revoked by an operator from the dashboard (`by`) is recorded in the tenant's
  audit log in the same transaction.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.api_keys import ApiKeyCreated, ApiKeyPublic, ApiKeyRotation, ApiKeysPublic
from db import api_keys
from db.models import ApiKey
from domain.operators import Operator
from domain.tenants import TenantIdentity
from services import audit
from services.auth import ApiKeyCache
from services.errors import Conflict, NotFound
from services.pages import decode_cursor, page


async def create_key(
    session: AsyncSession, tenant: TenantIdentity, name: str, by: Operator | None = None
) -> ApiKeyCreated:
    async with session.begin():
        row, key = await api_keys.add_api_key(session, tenant.id, name)
        if by is not None:
            await _audit(session, by, "api_key.create", row)
    return _created(row, key)


async def list_keys(
    session: AsyncSession, tenant: TenantIdentity, cursor: str | None, limit: int
) -> ApiKeysPublic:
    after = decode_cursor(cursor, datetime, uuid.UUID)
    rows = await api_keys.tenant_keys(session, tenant.id, after, limit + 1)
    shown, next_cursor = page(rows, limit, lambda key: (key.created_at, key.id))
    return ApiKeysPublic(data=[_public(row) for row in shown], next_cursor=next_cursor)


async def revoke_key(
    session: AsyncSession,
    cache: ApiKeyCache | None,
    tenant: TenantIdentity,
    key_id: uuid.UUID,
    force: bool = False,
    by: Operator | None = None,
) -> ApiKeyPublic:
    """Revoke the key now. Revoking a revoked key changes nothing (and answers as it is)."""
    async with session.begin():
        unrevoked = await api_keys.lock_unrevoked_keys(session, tenant.id)
        key = await _find(session, tenant, key_id)
        now = await api_keys.database_now(session)
        if key.revoked_at is not None and key.revoked_at <= now:
            return _public(key)
        if unrevoked == [key.id] and not force:
            raise Conflict(
                f"api key {key.id} is the tenant's last active key: revoking it would lock out "
                "every client, this one included. Create another key first, or revoke with "
                "force=true",
                code="last_api_key",
            )
        await api_keys.revoke(session, key, now)
        if by is not None:
            await _audit(session, by, "api_key.revoke", key)
    if cache is not None:
        cache.forget(key.key_digest)
    return _public(key)


async def rotate_key(
    session: AsyncSession,
    cache: ApiKeyCache | None,
    tenant: TenantIdentity,
    key_id: uuid.UUID,
    grace_seconds: int = 0,
) -> ApiKeyRotation:
    """A new key of the same name; the old one works `grace_seconds` more, then no more."""
    async with session.begin():
        # Against a concurrent revocation or rotation of the same key: one of them waits.
        await api_keys.lock_unrevoked_keys(session, tenant.id)
        old = await _find(session, tenant, key_id)
        if old.revoked_at is not None:
            raise Conflict(
                f"api key {old.id} is already revoked or rotated: create a new key instead",
                code="api_key_revoked",
            )
        new, key = await api_keys.add_api_key(session, tenant.id, old.name)
        now = await api_keys.database_now(session)
        await api_keys.revoke(session, old, now + timedelta(seconds=grace_seconds))
    if cache is not None:
        # Read again at its next use: cached from now on, it is cached no longer than its grace.
        cache.forget(old.key_digest)
    return ApiKeyRotation(created=_created(new, key), revoked=_public(old))


async def _find(session: AsyncSession, tenant: TenantIdentity, key_id: uuid.UUID) -> ApiKey:
    key = await api_keys.get_key(session, tenant.id, key_id)
    if key is None:  # another tenant's key is not found either: its existence is not ours to tell
        raise NotFound(f"api key {key_id} not found")
    return key


async def _audit(session: AsyncSession, by: Operator, action: str, key: ApiKey) -> None:
    """An operator's change to a key, named by its name and prefix (never the key)."""
    await audit.record(
        session, by, action, f"api key {key.key_prefix}", {"id": str(key.id), "name": key.name}
    )


def _public(row: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=row.id,
        name=row.name,
        prefix=row.key_prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _created(row: ApiKey, key: str) -> ApiKeyCreated:
    return ApiKeyCreated(**_public(row).model_dump(), key=key)
