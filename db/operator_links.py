"""Invitations and password resets: emailed single-use links, found by their token's digest.
Taking one (`take_*`) is a conditional UPDATE, so of two uses at once only one succeeds."""

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Tenant
from db.operator_models import OperatorInvitation, OperatorRow, PasswordReset
from domain.operators import INVITATION_LIFETIME, RESET_LIFETIME, Role


async def insert_invitation(
    session: AsyncSession,
    invitation_id: uuid.UUID,
    tenant_id: uuid.UUID,
    email: str,
    role: Role,
    digest: bytes,
    invited_by: uuid.UUID | None,
) -> None:
    await session.execute(
        insert(OperatorInvitation).values(
            id=invitation_id,
            tenant_id=tenant_id,
            email=email,
            role=role.value,
            token_digest=digest,
            invited_by=invited_by,
            expires_at=func.now() + INVITATION_LIFETIME,
        )
    )


def _open_invitation() -> Any:
    return (
        OperatorInvitation.accepted_at.is_(None)
        & OperatorInvitation.revoked_at.is_(None)
        & (OperatorInvitation.expires_at > func.now())
    )


async def open_invitation(session: AsyncSession, digest: bytes) -> Any | None:
    """The invitation (with its tenant's name) while it can still be accepted."""
    return (
        await session.execute(
            select(OperatorInvitation, Tenant.name.label("tenant_name"))
            .join(Tenant, Tenant.id == OperatorInvitation.tenant_id)
            .where(OperatorInvitation.token_digest == digest, _open_invitation())
        )
    ).one_or_none()


async def take_invitation(session: AsyncSession, digest: bytes) -> Any | None:
    """Marks the invitation accepted; its row, or None when it was no longer open."""
    return (
        await session.execute(
            update(OperatorInvitation)
            .where(OperatorInvitation.token_digest == digest, _open_invitation())
            .values(accepted_at=func.now())
            .returning(
                OperatorInvitation.id,
                OperatorInvitation.tenant_id,
                OperatorInvitation.email,
                OperatorInvitation.role,
            )
        )
    ).one_or_none()


async def pending_invitations(session: AsyncSession, tenant_id: uuid.UUID) -> list[Any]:
    rows = await session.execute(
        select(
            OperatorInvitation.id,
            OperatorInvitation.email,
            OperatorInvitation.role,
            OperatorInvitation.created_at,
            OperatorInvitation.expires_at,
        )
        .where(OperatorInvitation.tenant_id == tenant_id, _open_invitation())
        .order_by(OperatorInvitation.created_at.desc())
    )
    return list(rows)


async def revoke_open_invitations(session: AsyncSession, tenant_id: uuid.UUID, email: str) -> None:
    """An address invited again: only the newest invitation works."""
    await session.execute(
        update(OperatorInvitation)
        .where(
            OperatorInvitation.tenant_id == tenant_id,
            OperatorInvitation.email == email,
            _open_invitation(),
        )
        .values(revoked_at=func.now())
    )


async def revoke_invitation(
    session: AsyncSession, tenant_id: uuid.UUID, invitation_id: uuid.UUID
) -> str | None:
    """Revokes an open invitation; the address it was for, or None."""
    return await session.scalar(
        update(OperatorInvitation)
        .where(
            OperatorInvitation.tenant_id == tenant_id,
            OperatorInvitation.id == invitation_id,
            _open_invitation(),
        )
        .values(revoked_at=func.now())
        .returning(OperatorInvitation.email)
    )


async def insert_reset(
    session: AsyncSession, reset_id: uuid.UUID, operator_id: uuid.UUID, digest: bytes
) -> None:
    await session.execute(
        insert(PasswordReset).values(
            id=reset_id,
            operator_id=operator_id,
            token_digest=digest,
            expires_at=func.now() + RESET_LIFETIME,
        )
    )


def _open_reset() -> Any:
    return PasswordReset.used_at.is_(None) & (PasswordReset.expires_at > func.now())


async def open_resets(session: AsyncSession, operator_id: uuid.UUID) -> int:
    """How many of the operator's reset links still work: it bounds the emails one address can
    be sent by asking again and again."""
    count = await session.scalar(
        select(func.count())
        .select_from(PasswordReset)
        .where(PasswordReset.operator_id == operator_id, _open_reset())
    )
    return count or 0


async def open_reset(session: AsyncSession, digest: bytes) -> Any | None:
    """The reset's operator (email, tenant) while the link can still be used."""
    return (
        await session.execute(
            select(OperatorRow.id, OperatorRow.email, OperatorRow.tenant_id)
            .join(PasswordReset, PasswordReset.operator_id == OperatorRow.id)
            .where(PasswordReset.token_digest == digest, _open_reset())
        )
    ).one_or_none()


async def take_reset(session: AsyncSession, digest: bytes) -> uuid.UUID | None:
    """Marks the reset used, and every other open one of the operator with it (one new
    password ends them all); the operator's id, or None when it was no longer open."""
    operator_id = await session.scalar(
        update(PasswordReset)
        .where(PasswordReset.token_digest == digest, _open_reset())
        .values(used_at=func.now())
        .returning(PasswordReset.operator_id)
    )
    if operator_id is not None:
        await session.execute(
            update(PasswordReset)
            .where(PasswordReset.operator_id == operator_id, _open_reset())
            .values(used_at=func.now())
        )
    return operator_id
