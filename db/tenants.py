"""Tenants and their API keys. A key is shown once; only its SHA-256 digest is stored."""

import hashlib
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiKey, Tenant
from domain.tenants import TenantIdentity

KEY_PREFIX = "hk_"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> bytes:
    # The key carries 256 bits of randomness, so a fast hash is enough: there is
    # nothing to brute-force, and a lookup by digest keeps authentication one indexed read.
    return hashlib.sha256(key.encode()).digest()


async def create_tenant(session: AsyncSession, name: str) -> tuple[Tenant, str]:
    tenant = Tenant(name=name)
    session.add(tenant)
    await session.flush()
    key = await add_api_key(session, tenant.id)
    return tenant, key


async def add_api_key(session: AsyncSession, tenant_id: uuid.UUID, name: str = "default") -> str:
    key = new_api_key()
    session.add(
        ApiKey(tenant_id=tenant_id, key_digest=key_digest(key), key_prefix=key[:10], name=name)
    )
    await session.flush()
    return key


async def tenant_for_key(session: AsyncSession, key: str) -> TenantIdentity | None:
    row = (
        await session.execute(
            select(Tenant.id, Tenant.name)
            .join(ApiKey, ApiKey.tenant_id == Tenant.id)
            .where(ApiKey.key_digest == key_digest(key), ApiKey.revoked_at.is_(None))
        )
    ).one_or_none()
    return TenantIdentity(id=row.id, name=row.name) if row else None
