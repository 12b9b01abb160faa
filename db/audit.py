"""The audit log: who changed what in a tenant (written in the change's own transaction)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.operator_models import AuditEntry


async def insert_entry(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    operator_id: uuid.UUID | None,
    operator_email: str,
    action: str,
    target: str,
    details: dict[str, Any],
) -> None:
    await session.execute(
        insert(AuditEntry).values(
            tenant_id=tenant_id,
            operator_id=operator_id,
            operator_email=operator_email,
            action=action,
            target=target,
            details=details,
        )
    )


async def entries(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Any]:
    """The tenant's entries, newest first, after a position (at, id); `limit` rows."""
    statement = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if after is not None:
        statement = statement.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(*after))
    statement = statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return list(await session.scalars(statement))
