"""Tenants. Their API keys are db/api_keys.py's."""

import uuid
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.api_keys import add_api_key
from db.models import Tenant
from domain.tenants import TenantIdentity


async def create_tenant(session: AsyncSession, name: str) -> tuple[Tenant, str]:
    """The tenant and its first API key (shown once)."""
    tenant = Tenant(name=name)
    session.add(tenant)
    await session.flush()
    _, key = await add_api_key(session, tenant.id)
    return tenant, key


async def tenants_named(session: AsyncSession, name_or_id: str) -> list[TenantIdentity]:
    """The tenants with this id or this name (names need not be unique), for the command line."""
    statement = select(Tenant.id, Tenant.name).where(
        or_(Tenant.name == name_or_id, cast(Tenant.id, String) == name_or_id.lower())
    )
    return [TenantIdentity(id=row.id, name=row.name) for row in await session.execute(statement)]


async def owner_of(session: AsyncSession, model: Any, row_id: uuid.UUID) -> TenantIdentity | None:
    """The tenant a row of `model` (an ApiKey, a Broadcast: any table with `tenant_id`) belongs
    to: for the operator's command line, which names such a row by its id alone."""
    row = (
        await session.execute(
            select(Tenant.id, Tenant.name)
            .join(model, model.tenant_id == Tenant.id)
            .where(model.id == row_id)
        )
    ).one_or_none()
    return TenantIdentity(id=row.id, name=row.name) if row else None


async def tenant_name(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    name = await session.scalar(select(Tenant.name).where(Tenant.id == tenant_id))
    return name or ""
