"""What GET /v1/health reads, across tenants: circuits, providers' failure rates, the backlog."""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.types import (
    FAILED_DELIVERY_STATUSES,
    NEVER_SENT_STATUSES,
    OPEN_DELIVERY_STATUSES,
    UNFINISHED_NOTIFICATION_STATUSES,
)

_CIRCUITS = text("SELECT provider, state FROM provider_circuits")
# Deliveries a provider was asked to take: settled, but not before a send.
_FAILURE_RATES = text("""
    SELECT provider, count(*) FILTER (WHERE status = ANY(:failed)) AS failed, count(*) AS total
    FROM deliveries
    WHERE updated_at > now() - interval '1 hour' AND provider IS NOT NULL
      AND NOT status = ANY(:not_attempted)
    GROUP BY provider
""").bindparams(
    failed=sorted(FAILED_DELIVERY_STATUSES),
    not_attempted=sorted(OPEN_DELIVERY_STATUSES | NEVER_SENT_STATUSES),
)
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


async def failure_counts_last_hour(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Provider -> (failed or bounced, attempted) among its deliveries of the last hour."""
    return {row.provider: (row.failed, row.total) for row in await session.execute(_FAILURE_RATES)}


async def backlog(session: AsyncSession, tenant_id: uuid.UUID | None = None) -> dict[str, int]:
    """Status -> how many notifications are not finished: waiting (send_at, quiet hours)
    or being sent; every tenant's, or one tenant's."""
    if tenant_id is None:
        rows = await session.execute(_EVERY_TENANTS_BACKLOG)
    else:
        rows = await session.execute(_ONE_TENANTS_BACKLOG, {"tenant_id": tenant_id})
    return {row.status: row.waiting for row in rows}
