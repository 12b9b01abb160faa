"""What the dashboard's Overview reads beyond the statistics: deliveries waiting out a deferral
and recent failures nobody has resent yet. Each query is bounded by a time range on
ix_deliveries_tenant_created and a LIMIT, so its cost does not grow with the table."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.types import DeliveryStatus

_DEFERRED = text("""
    SELECT count(*) FROM deliveries
    WHERE tenant_id = :tenant_id AND created_at >= :start AND created_at < :end
      AND status = :deferred
""").bindparams(deferred=DeliveryStatus.DEFERRED.value)


async def deferred_count(
    session: AsyncSession, tenant_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Deliveries created in [start, end) that are waiting now (quiet hours, a cap, send_at)."""
    count = await session.scalar(_DEFERRED, {"tenant_id": tenant_id, "start": start, "end": end})
    return int(count or 0)


@dataclass(frozen=True)
class UnresolvedFailure:
    id: uuid.UUID
    notification_id: uuid.UUID
    channel: str
    provider: str | None
    address: str | None
    status: str
    error: str | None
    status_reason: str | None
    created_at: datetime
    event_key: str
    recipient: str


# A resend is a new delivery of the same notification naming this one in resent_from_id:
# looking it up by notification_id uses ix_deliveries_notification (resent_from_id has no index).
_UNRESOLVED = text("""
    SELECT d.id, d.notification_id, d.channel, d.provider, d.address, d.status, d.error,
           d.status_reason, d.created_at, n.event_key, r.external_id AS recipient
    FROM deliveries d
    JOIN notifications n ON n.id = d.notification_id
    JOIN recipients r ON r.id = n.recipient_id
    WHERE d.tenant_id = :tenant_id AND d.created_at >= :since
      AND d.status IN (:failed, :bounced)
      AND NOT EXISTS (
          SELECT 1 FROM deliveries c
          WHERE c.notification_id = d.notification_id AND c.resent_from_id = d.id
      )
    ORDER BY d.created_at DESC, d.id DESC
    LIMIT :limit
""").bindparams(failed=DeliveryStatus.FAILED.value, bounced=DeliveryStatus.BOUNCED.value)


async def unresolved_failures(
    session: AsyncSession, tenant_id: uuid.UUID, since: datetime, limit: int
) -> list[UnresolvedFailure]:
    """Failed or bounced deliveries created since `since` and not resent, newest first."""
    rows = await session.execute(
        _UNRESOLVED, {"tenant_id": tenant_id, "since": since, "limit": limit}
    )
    return [UnresolvedFailure(**row._mapping) for row in rows]
