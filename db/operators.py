"""Operators, their sessions and sign-in attempts. Times are the database's clock, the one every
API process shares; of a session's token only its digest is stored (domain.operators)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Tenant
from db.operator_models import LoginAttempt, OperatorRow, OperatorSession
from domain.operators import (
    LOGIN_WINDOW,
    SESSION_IDLE,
    SESSION_LIFETIME,
    TOUCH_INTERVAL,
    Operator,
    Role,
)

_COLUMNS = (
    OperatorRow.id,
    OperatorRow.tenant_id,
    OperatorRow.email,
    OperatorRow.name,
    OperatorRow.role,
)


def operator_of(row: Any) -> Operator:
    return Operator(
        id=row.id, tenant_id=row.tenant_id, email=row.email, name=row.name, role=Role(row.role)
    )


async def insert_operator(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    email: str,
    name: str,
    role: Role,
    password_hash: str,
) -> Operator | None:
    """The new operator; None when the tenant has one with this email already."""
    statement = (
        insert(OperatorRow)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            email=email,
            name=name,
            role=role.value,
            password_hash=password_hash,
        )
        .on_conflict_do_nothing(constraint="uq_operators_tenant_email")
        .returning(*_COLUMNS)
    )
    row = (await session.execute(statement)).one_or_none()
    return operator_of(row) if row else None


async def get_operator(
    session: AsyncSession, tenant_id: uuid.UUID, operator_id: uuid.UUID
) -> Operator | None:
    row = (
        await session.execute(
            select(*_COLUMNS).where(
                OperatorRow.tenant_id == tenant_id, OperatorRow.id == operator_id
            )
        )
    ).one_or_none()
    return operator_of(row) if row else None


async def operator_by_id(session: AsyncSession, operator_id: uuid.UUID) -> Operator | None:
    """Any tenant's operator: for a link whose row names them."""
    row = (
        await session.execute(select(*_COLUMNS).where(OperatorRow.id == operator_id))
    ).one_or_none()
    return operator_of(row) if row else None


@dataclass(frozen=True)
class Account:
    """An operator as sign-in sees them: with their password hash and tenant's name."""

    operator: Operator
    password_hash: str
    tenant_name: str


async def accounts_with_email(session: AsyncSession, email: str) -> list[Account]:
    """Every tenant's account with this (normalized) email, oldest tenant first."""
    rows = await session.execute(
        select(*_COLUMNS, OperatorRow.password_hash, Tenant.name.label("tenant_name"))
        .join(Tenant, Tenant.id == OperatorRow.tenant_id)
        .where(OperatorRow.email == email)
        .order_by(Tenant.created_at, Tenant.id)
    )
    return [Account(operator_of(row), row.password_hash, row.tenant_name) for row in rows]


async def tenant_operators(session: AsyncSession, tenant_id: uuid.UUID) -> list[Any]:
    """The tenant's team, by name: rows with the Operator's fields and created_at."""
    rows = await session.execute(
        select(*_COLUMNS, OperatorRow.created_at)
        .where(OperatorRow.tenant_id == tenant_id)
        .order_by(OperatorRow.name, OperatorRow.email)
    )
    return list(rows)


async def lock_owners(session: AsyncSession, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The tenant's owners, their rows locked until the transaction ends: two owners demoting
    each other at once cannot leave the tenant with none."""
    rows = await session.execute(
        select(OperatorRow.id)
        .where(OperatorRow.tenant_id == tenant_id, OperatorRow.role == Role.OWNER.value)
        .order_by(OperatorRow.id)
        .with_for_update()
    )
    return list(rows.scalars())


async def set_role(
    session: AsyncSession, tenant_id: uuid.UUID, operator_id: uuid.UUID, role: Role
) -> bool:
    result = await session.execute(
        update(OperatorRow)
        .where(OperatorRow.tenant_id == tenant_id, OperatorRow.id == operator_id)
        .values(role=role.value)
        .returning(OperatorRow.id)
    )
    return result.one_or_none() is not None


async def delete_operator(
    session: AsyncSession, tenant_id: uuid.UUID, operator_id: uuid.UUID
) -> bool:
    """Removes the operator and (by cascade) their sessions and password resets."""
    result = await session.execute(
        delete(OperatorRow)
        .where(OperatorRow.tenant_id == tenant_id, OperatorRow.id == operator_id)
        .returning(OperatorRow.id)
    )
    return result.one_or_none() is not None


async def set_password_hash(session: AsyncSession, operator_id: uuid.UUID, hashed: str) -> None:
    await session.execute(
        update(OperatorRow).where(OperatorRow.id == operator_id).values(password_hash=hashed)
    )


async def tenant_has_operators(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(OperatorRow.id).where(OperatorRow.tenant_id == tenant_id).limit(1)
    )
    return found is not None


# Sessions


async def insert_session(
    session: AsyncSession,
    operator_id: uuid.UUID,
    digest: bytes,
    user_agent: str | None,
    ip_address: str | None,
) -> None:
    await session.execute(
        core_insert(OperatorSession).values(
            id=uuid.uuid4(),
            token_digest=digest,
            operator_id=operator_id,
            user_agent=(user_agent or "")[:300] or None,
            ip_address=ip_address,
        )
    )


async def live_session_operator(session: AsyncSession, digest: bytes) -> Operator | None:
    """The operator of a session that is neither revoked, idle past SESSION_IDLE nor older
    than SESSION_LIFETIME; its last use is stamped (at most once per TOUCH_INTERVAL, so a page
    with many requests writes once)."""
    live = (
        (OperatorSession.token_digest == digest)
        & OperatorSession.revoked_at.is_(None)
        & (OperatorSession.last_seen_at > func.now() - SESSION_IDLE)
        & (OperatorSession.created_at > func.now() - SESSION_LIFETIME)
    )
    row = (
        await session.execute(
            select(*_COLUMNS, OperatorSession.id.label("session_id"), OperatorSession.last_seen_at)
            .join(OperatorRow, OperatorRow.id == OperatorSession.operator_id)
            .where(live)
        )
    ).one_or_none()
    if row is None:
        return None
    await session.execute(
        update(OperatorSession)
        .where(
            OperatorSession.id == row.session_id,
            OperatorSession.last_seen_at < func.now() - TOUCH_INTERVAL,
        )
        .values(last_seen_at=func.now())
    )
    return operator_of(row)


async def revoke_session(session: AsyncSession, digest: bytes) -> None:
    await session.execute(
        update(OperatorSession)
        .where(OperatorSession.token_digest == digest, OperatorSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_sessions(session: AsyncSession, operator_id: uuid.UUID) -> int:
    """Ends every live session of the operator; how many there were."""
    result = await session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(OperatorSession.id)
    )
    return len(result.all())


# Sign-in attempts


async def lock_sign_in(session: AsyncSession, email: str) -> None:
    """Serializes sign-ins to one email across every API process (until the transaction ends),
    so concurrent guesses cannot all pass the limit before any failure is recorded."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 14))"),
        {"key": f"operator-sign-in:{email}"},
    )


@dataclass(frozen=True)
class RecentFailures:
    """Failed sign-ins within LOGIN_WINDOW, oldest first, and the database's time."""

    by_email: list[datetime]
    by_address: list[datetime]
    now: datetime


async def recent_failures(session: AsyncSession, email: str, ip_address: str) -> RecentFailures:
    """An email's failures count since its last success (signing in clears them); an address's
    all count, whoever they were for."""
    since = func.now() - LOGIN_WINDOW
    last_success = (
        select(func.max(LoginAttempt.at))
        .where(LoginAttempt.email == email, LoginAttempt.succeeded)
        .scalar_subquery()
    )
    by_email = await session.scalars(
        select(LoginAttempt.at)
        .where(
            LoginAttempt.email == email,
            ~LoginAttempt.succeeded,
            LoginAttempt.at > since,
            LoginAttempt.at > func.coalesce(last_success, since),
        )
        .order_by(LoginAttempt.at)
    )
    by_address = await session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.ip_address == ip_address, ~LoginAttempt.succeeded)
        .where(LoginAttempt.at > since)
        .order_by(LoginAttempt.at)
    )
    now = await session.scalar(select(func.now()))
    assert now is not None
    return RecentFailures(list(by_email), list(by_address), now)


async def record_attempt(
    session: AsyncSession, email: str, ip_address: str, succeeded: bool
) -> None:
    await session.execute(
        core_insert(LoginAttempt).values(email=email, ip_address=ip_address, succeeded=succeeded)
    )
