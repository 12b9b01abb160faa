"""The delivery log: every delivery, filtered, newest first, a page at a time.

A page that is not the last ends with an opaque cursor, the position of its last delivery,
from which the next page continues; a cursor stays valid while deliveries are added."""

import base64
import dataclasses
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.notifications import LogEntry, LogPage
from db.logs import list_logs
from domain.filters import LogFilter
from domain.tenants import TenantIdentity
from services.errors import invalid_field


async def delivery_log(
    session: AsyncSession,
    tenant: TenantIdentity,
    filters: LogFilter,
    cursor: str | None,
    limit: int,
) -> LogPage:
    if cursor:
        filters = dataclasses.replace(filters, after=_decode_cursor(cursor))
    rows = await list_logs(session, tenant.id, filters, limit + 1)  # one more: a next page?
    page = rows[:limit]
    entries = [
        LogEntry.model_validate(
            {
                **_delivery_fields(row.Delivery),
                "event_key": row.event_key,
                "recipient": row.recipient,
            }
        )
        for row in page
    ]
    last = page[-1].Delivery if len(rows) > limit else None
    next_cursor = _encode_cursor(last.created_at, last.id) if last else None
    return LogPage(data=entries, next_cursor=next_cursor)


def _delivery_fields(delivery: object) -> dict[str, object]:
    return {k: getattr(delivery, k) for k in LogEntry.model_fields if hasattr(delivery, k)}


def _encode_cursor(created_at: datetime, delivery_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{delivery_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, _, delivery_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(created), uuid.UUID(delivery_id)
    except ValueError:
        raise invalid_field("cursor", "is not a cursor this API returned") from None
