"""Operators: a tenant's team, one account per (tenant, email). Their sessions and sign-in
attempts: db/operator_sessions.py; invitations and resets: db/operator_links.py."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Tenant
from db.operator_models import OperatorRow
from domain.operators import Operator, Role

OPERATOR_COLUMNS = (
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
        .returning(*OPERATOR_COLUMNS)
    )
    row = (await session.execute(statement)).one_or_none()
    return operator_of(row) if row else None


async def get_operator(
    session: AsyncSession, tenant_id: uuid.UUID, operator_id: uuid.UUID
) -> Operator | None:
    row = (
        await session.execute(
            select(*OPERATOR_COLUMNS).where(
                OperatorRow.tenant_id == tenant_id, OperatorRow.id == operator_id
            )
        )
    ).one_or_none()
    return operator_of(row) if row else None


async def operator_by_id(session: AsyncSession, operator_id: uuid.UUID) -> Operator | None:
    """Any tenant's operator: for a link whose row names them."""
    row = (
        await session.execute(select(*OPERATOR_COLUMNS).where(OperatorRow.id == operator_id))
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
        select(*OPERATOR_COLUMNS, OperatorRow.password_hash, Tenant.name.label("tenant_name"))
        .join(Tenant, Tenant.id == OperatorRow.tenant_id)
        .where(OperatorRow.email == email)
        .order_by(Tenant.created_at, Tenant.id)
    )
    return [Account(operator_of(row), row.password_hash, row.tenant_name) for row in rows]


async def tenant_operators(session: AsyncSession, tenant_id: uuid.UUID) -> list[Any]:
    """The tenant's team, by name: rows with the Operator's fields and created_at."""
    rows = await session.execute(
        select(*OPERATOR_COLUMNS, OperatorRow.created_at)
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
