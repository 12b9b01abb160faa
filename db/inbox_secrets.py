"""A tenant's inbox signing secrets (recipient tokens) and its inbox settings.

A secret is valid while it is not revoked and its `expires_at` (set when a newer secret replaces
it: the rotation's overlap) is unset or still ahead. The newest valid secret with no `expires_at`
signs the tokens Herald issues. `secret` holds the secret sealed (services/inbox_secrets.py),
never in clear. Times are the database's clock, the one every API process shares.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.inbox_models import InboxSigningSecret, TenantInboxSettings


@dataclass(frozen=True)
class SealedSecret:
    """A valid secret as verification needs it: whose, sealed, and until when."""

    kid: str
    tenant_id: uuid.UUID
    sealed: str
    expires_at: datetime | None


def _valid() -> ColumnElement[bool]:
    return (InboxSigningSecret.revoked_at.is_(None)) & or_(
        InboxSigningSecret.expires_at.is_(None), InboxSigningSecret.expires_at > func.now()
    )


def _sealed(row: InboxSigningSecret) -> SealedSecret:
    return SealedSecret(row.kid, row.tenant_id, row.secret, row.expires_at)


async def lock_tenant_secrets(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Until the transaction ends, no other transaction creates, rotates or revokes this tenant's
    secrets: two first token requests at once create one secret, not two."""
    lock_id = func.hashtextextended(f"inbox-secrets:{tenant_id}", 0)
    await session.execute(select(func.pg_advisory_xact_lock(lock_id)))


async def newest_secret(session: AsyncSession, tenant_id: uuid.UUID) -> InboxSigningSecret | None:
    """The secret that signs Herald's tokens: the newest valid one not on its way out."""
    return await session.scalar(
        select(InboxSigningSecret)
        .where(
            InboxSigningSecret.tenant_id == tenant_id,
            InboxSigningSecret.expires_at.is_(None),
            _valid(),
        )
        .order_by(InboxSigningSecret.created_at.desc(), InboxSigningSecret.id.desc())
        .limit(1)
    )


async def add_secret(
    session: AsyncSession, tenant_id: uuid.UUID, kid: str, sealed: str
) -> InboxSigningSecret:
    row = InboxSigningSecret(id=uuid.uuid4(), tenant_id=tenant_id, kid=kid, secret=sealed)
    session.add(row)
    await session.flush()
    await session.refresh(row)  # created_at, from the database's clock
    return row


async def valid_secret(session: AsyncSession, kid: str) -> SealedSecret | None:
    """The valid secret named `kid`, whichever tenant's: the token's `tid` is checked against it."""
    row = await session.scalar(
        select(InboxSigningSecret).where(InboxSigningSecret.kid == kid, _valid())
    )
    return _sealed(row) if row is not None else None


async def valid_tenant_secrets(session: AsyncSession, tenant_id: uuid.UUID) -> list[SealedSecret]:
    """Every valid secret of the tenant (the HMAC scheme accepts any of them)."""
    rows = await session.scalars(
        select(InboxSigningSecret).where(InboxSigningSecret.tenant_id == tenant_id, _valid())
    )
    return [_sealed(row) for row in rows]


async def tenant_secret(
    session: AsyncSession, tenant_id: uuid.UUID, kid: str
) -> InboxSigningSecret | None:
    return await session.scalar(
        select(InboxSigningSecret).where(
            InboxSigningSecret.tenant_id == tenant_id, InboxSigningSecret.kid == kid
        )
    )


async def tenant_secrets(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[InboxSigningSecret]:
    """The tenant's secrets, revoked and expired ones included, newest first, from after `after`
    (created_at, id), at most `limit`."""
    conditions = [InboxSigningSecret.tenant_id == tenant_id]
    if after is not None:
        conditions.append(
            tuple_(InboxSigningSecret.created_at, InboxSigningSecret.id) < tuple_(*after)
        )
    statement = (
        select(InboxSigningSecret)
        .where(*conditions)
        .order_by(InboxSigningSecret.created_at.desc(), InboxSigningSecret.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def inbox_settings(session: AsyncSession, tenant_id: uuid.UUID) -> TenantInboxSettings | None:
    """The tenant's inbox settings; None: never set (the columns' defaults apply)."""
    return await session.get(TenantInboxSettings, tenant_id)


async def save_inbox_settings(
    session: AsyncSession, tenant_id: uuid.UUID, changes: dict[str, Any]
) -> TenantInboxSettings:
    """Create the tenant's row with `changes` over the defaults, or change those fields of it."""
    statement = (
        insert(TenantInboxSettings)
        .values(tenant_id=tenant_id, **changes)
        .on_conflict_do_update(
            index_elements=[TenantInboxSettings.tenant_id],
            set_={**changes, "updated_at": func.now()},
        )
        .returning(TenantInboxSettings)
    )
    row = await session.scalar(statement, execution_options={"populate_existing": True})
    assert row is not None  # an upsert ... RETURNING returns its row
    return row
