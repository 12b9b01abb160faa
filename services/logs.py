"""The delivery log: every delivery, filtered, newest first, a page at a time.

A page ends with an opaque cursor, the position of its last delivery, from which the next
page continues; a cursor stays valid while deliveries are added."""

import base64
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas import LogEntry, LogPage
from db.logs import LogFilter, list_logs
from domain.tenants import TenantIdentity
from domain.types import Channel, DeliveryStatus
from services.errors import invalid_field


async def delivery_log(
    session: AsyncSession,
    tenant: TenantIdentity,
    *,
    status: DeliveryStatus | None,
    channel: Channel | None,
    event_key: str | None,
    recipient: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> LogPage:
    filters = LogFilter(
        status=status,
        channel=channel,
        event_key=event_key,
        recipient=recipient,
        since=since,
        until=until,
        after=_decode_cursor(cursor) if cursor else None,
    )
    rows = await list_logs(
        session, tenant.id, filters, limit + 1
    )  # one more: is there a next page?
    page = rows[:limit]
    entries = [
        LogEntry.model_validate(
            {
                **{
                    k: getattr(row.Delivery, k)
                    for k in LogEntry.model_fields
                    if hasattr(row.Delivery, k)
                },
                "event_key": row.event_key,
                "recipient": row.recipient,
            }
        )
        for row in page
    ]
    last = page[-1].Delivery if len(rows) > limit else None
    next_cursor = _encode_cursor(last.created_at, last.id) if last else None
    return LogPage(data=entries, next_cursor=next_cursor)


def _encode_cursor(created_at: datetime, delivery_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{delivery_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, _, delivery_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(created), uuid.UUID(delivery_id)
    except ValueError:
        raise invalid_field("cursor", "is not a cursor this API returned") from None
