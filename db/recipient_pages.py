"""What the dashboard's Recipients page reads besides a search (db/recipient_search.py): the
first recipients of a tenant, and one recipient's latest notifications with their deliveries.
Both are bounded whatever the tables hold."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.recipient_search import RecipientMatch

# The unique (tenant_id, external_id) index, read in order: the LIMIT stops the walk.
_FIRST = text("""
    SELECT id, external_id, name, email, phone FROM recipients
    WHERE tenant_id = :tenant_id ORDER BY external_id LIMIT :limit
""")


async def first_recipients(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int
) -> list[RecipientMatch]:
    """The tenant's first `limit` recipients by external id (the page before any search)."""
    rows = await session.execute(_FIRST, {"tenant_id": tenant_id, "limit": limit})
    return [RecipientMatch(**row._mapping) for row in rows]


@dataclass(frozen=True)
class DeliveryLine:
    id: uuid.UUID
    channel: str
    provider: str | None
    address: str | None
    status: str
    status_reason: str | None
    error: str | None
    deferred_until: datetime | None
    sent_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class NotificationLine:
    """A notification to the recipient and its deliveries (none yet while it waits to plan)."""

    id: uuid.UUID
    event_key: str
    status: str
    status_reason: str | None
    send_at: datetime | None
    created_at: datetime
    deliveries: list[DeliveryLine] = field(default_factory=list)


# The recipient's newest notifications (ix_notifications_recipient_created, newest first), then
# each one's deliveries (ix_deliveries_notification).
_ACTIVITY = text("""
    SELECT n.id AS n_id, n.event_key, n.status AS n_status, n.status_reason AS n_status_reason,
           n.send_at, n.created_at AS n_created_at,
           d.id, d.channel, d.provider, d.address, d.status, d.status_reason, d.error,
           d.deferred_until, d.sent_at, d.created_at
    FROM (
        SELECT id, event_key, status, status_reason, send_at, created_at FROM notifications
        WHERE tenant_id = :tenant_id AND recipient_id = :recipient_id
        ORDER BY created_at DESC, id DESC
        LIMIT :limit
    ) n
    LEFT JOIN deliveries d ON d.notification_id = n.id
    ORDER BY n.created_at DESC, n.id DESC, d.created_at, d.id
""")


async def recent_notifications(
    session: AsyncSession, tenant_id: uuid.UUID, recipient_id: uuid.UUID, limit: int
) -> list[NotificationLine]:
    """The recipient's `limit` newest notifications, newest first, each with its deliveries."""
    rows = await session.execute(
        _ACTIVITY, {"tenant_id": tenant_id, "recipient_id": recipient_id, "limit": limit}
    )
    lines: dict[uuid.UUID, NotificationLine] = {}
    for row in rows:
        values = row._mapping
        line = lines.get(values["n_id"])
        if line is None:
            line = lines[values["n_id"]] = NotificationLine(
                id=values["n_id"],
                event_key=values["event_key"],
                status=values["n_status"],
                status_reason=values["n_status_reason"],
                send_at=values["send_at"],
                created_at=values["n_created_at"],
            )
        if values["id"] is not None:
            line.deliveries.append(
                DeliveryLine(**{name: values[name] for name in DeliveryLine.__dataclass_fields__})
            )
    return list(lines.values())
