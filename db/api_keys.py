"""API keys. A key is shown once, at creation; only its SHA-256 digest is stored.

A key is active while `revoked_at` is unset or still ahead: a rotated key's grace period is a
revocation dated in the future. Times are the database's clock, the one every API process shares.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiKey, Tenant
from domain.tenants import TenantIdentity

KEY_PREFIX = "hk_"
SHOWN_PREFIX = 10  # characters of a key kept in clear, to tell keys apart: "hk_" and 7 more


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> bytes:
    # The key carries 256 bits of randomness, so a fast hash is enough: there is
    # nothing to brute-force, and a lookup by digest keeps authentication one indexed read.
    return hashlib.sha256(key.encode()).digest()


def _active() -> ColumnElement[bool]:
    return or_(ApiKey.revoked_at.is_(None), ApiKey.revoked_at > func.now())


async def add_api_key(
    session: AsyncSession, tenant_id: uuid.UUID, name: str = "default"
) -> tuple[ApiKey, str]:
    """The new key's row and the key itself: the only moment the key exists outside its user."""
    key = new_api_key()
    row = await session.scalar(
        insert(ApiKey)
        .values(
            tenant_id=tenant_id,
            key_digest=key_digest(key),
            key_prefix=key[:SHOWN_PREFIX],
            name=name,
        )
        .returning(ApiKey)
    )
    assert row is not None  # an INSERT ... RETURNING returns its row
    return row, key


@dataclass(frozen=True)
class KeyOwner:
    """What authenticating a key finds: which key, whose, and until when (rotation's grace)."""

    key_id: uuid.UUID
    tenant: TenantIdentity
    expires_at: datetime | None


async def key_owner(session: AsyncSession, digest: bytes) -> KeyOwner | None:
    """The active key with this digest and its tenant; None when unknown, revoked or expired."""
    row = (
        await session.execute(
            select(ApiKey.id, ApiKey.revoked_at, Tenant.id.label("tenant_id"), Tenant.name)
            .join(Tenant, ApiKey.tenant_id == Tenant.id)
            .where(ApiKey.key_digest == digest, _active())
        )
    ).one_or_none()
    if row is None:
        return None
    return KeyOwner(row.id, TenantIdentity(id=row.tenant_id, name=row.name), row.revoked_at)


async def tenant_for_key(session: AsyncSession, key: str) -> TenantIdentity | None:
    owner = await key_owner(session, key_digest(key))
    return owner.tenant if owner else None


async def tenant_keys(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ApiKey]:
    """The tenant's keys, revoked ones included, oldest first, from after `after`
    (created_at, id), at most `limit`."""
    conditions = [ApiKey.tenant_id == tenant_id]
    if after is not None:
        conditions.append(tuple_(ApiKey.created_at, ApiKey.id) > tuple_(*after))
    statement = (
        select(ApiKey).where(*conditions).order_by(ApiKey.created_at, ApiKey.id).limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def get_key(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    return await session.scalar(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
    )


async def lock_unrevoked_keys(session: AsyncSession, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The tenant's keys with no revocation at all (a key in its grace period is on its way out),
    locked until the transaction ends: two revocations at once cannot both see another key left."""
    statement = (
        select(ApiKey.id)
        .where(ApiKey.tenant_id == tenant_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id)  # locked in one order by everyone: no deadlock between two
        .with_for_update()
    )
    return list((await session.scalars(statement)).all())


async def database_now(session: AsyncSession) -> datetime:
    """The transaction's time on the database's clock, which authentication compares with."""
    now = await session.scalar(select(func.now()))
    assert now is not None
    return now


async def revoke(session: AsyncSession, key: ApiKey, at: datetime) -> None:
    """The key stops working at `at`: now, or the end of a rotation's grace period."""
    key.revoked_at = at
    await session.flush()


async def record_last_use(session: AsyncSession, key_id: uuid.UUID, granularity: float) -> None:
    """Stamp `last_used_at`, unless another process did within `granularity` seconds or the row
    is locked (being revoked, say): a lost stamp is one minute's precision, never a wait."""
    stale = select(ApiKey.id).where(
        ApiKey.id == key_id,
        or_(
            ApiKey.last_used_at.is_(None),
            ApiKey.last_used_at < func.now() - timedelta(seconds=granularity),
        ),
    )
    await session.execute(
        update(ApiKey)
        .where(ApiKey.id == stale.with_for_update(skip_locked=True).scalar_subquery())
        .values(last_used_at=func.now())
    )
