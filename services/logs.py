"""The delivery log: every delivery, filtered, newest first, a page at a time (services/pages.py);
a cursor stays valid while deliveries are added."""

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.notifications import LogEntry, LogPage
from db.logs import list_logs
from domain.filters import LogFilter
from domain.tenants import TenantIdentity
from services.pages import decode_cursor, page


async def delivery_log(
    session: AsyncSession,
    tenant: TenantIdentity,
    filters: LogFilter,
    cursor: str | None,
    limit: int,
) -> LogPage:
    filters = dataclasses.replace(filters, after=decode_cursor(cursor, datetime, uuid.UUID))
    rows = await list_logs(session, tenant.id, filters, limit + 1)  # one more: a next page?
    shown, next_cursor = page(rows, limit, lambda row: (row.Delivery.created_at, row.Delivery.id))
    entries = [
        LogEntry.model_validate(
            {
                **_delivery_fields(row.Delivery),
                "event_key": row.event_key,
                "recipient": row.recipient,
            }
        )
        for row in shown
    ]
    return LogPage(data=entries, next_cursor=next_cursor)


def _delivery_fields(delivery: object) -> dict[str, object]:
    return {k: getattr(delivery, k) for k in LogEntry.model_fields if hasattr(delivery, k)}
