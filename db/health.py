"""What GET /v1/health reads: circuits, the backlog (every tenant's or one's). The providers'
failure rates are the failure-rate alert's counts (db.maintenance.failure_counts)."""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.types import (
    UNFINISHED_NOTIFICATION_STATUSES,
)

_CIRCUITS = text("SELECT provider, state FROM provider_circuits")
_BACKLOG = """
    SELECT status, count(*) AS waiting FROM notifications
    WHERE status = ANY(:unfinished) {of_tenant}
    GROUP BY status
"""
_EVERY_TENANTS_BACKLOG = text(_BACKLOG.format(of_tenant="")).bindparams(
    unfinished=sorted(UNFINISHED_NOTIFICATION_STATUSES)
)
_ONE_TENANTS_BACKLOG = text(_BACKLOG.format(of_tenant="AND tenant_id = :tenant_id")).bindparams(
    unfinished=sorted(UNFINISHED_NOTIFICATION_STATUSES)
)


async def ping(session: AsyncSession) -> None:
    await session.execute(text("select 1"))


async def circuit_states(session: AsyncSession) -> dict[str, str]:
    """Provider -> its circuit's state; a provider never tripped has no row (closed)."""
    return {row.provider: row.state for row in await session.execute(_CIRCUITS)}


async def backlog(session: AsyncSession, tenant_id: uuid.UUID | None = None) -> dict[str, int]:
    """Status -> how many notifications are not finished: waiting (send_at, quiet hours)
    or being sent; every tenant's, or one tenant's."""
    if tenant_id is None:
        rows = await session.execute(_EVERY_TENANTS_BACKLOG)
    else:
        rows = await session.execute(_ONE_TENANTS_BACKLOG, {"tenant_id": tenant_id})
    return {row.status: row.waiting for row in rows}
