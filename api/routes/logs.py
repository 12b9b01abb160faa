"""GET /v1/logs: every delivery, filtered, newest first, cursor-paginated."""

import base64
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, TenantDep
from api.errors import field_error
from api.schemas import LogEntry, LogPage
from db.notifications import LogFilter, list_logs
from domain.types import Channel, DeliveryStatus

router = APIRouter(prefix="/v1/logs", tags=["logs"])


def _encode_cursor(created_at: datetime, delivery_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{delivery_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, _, delivery_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(created), uuid.UUID(delivery_id)
    except ValueError:
        raise field_error("cursor", "is not a cursor this API returned") from None


@router.get("", response_model=LogPage)
async def logs(
    tenant: TenantDep,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    channel: Channel | None = None,
    event_key: str | None = None,
    recipient: Annotated[str | None, Query(description="The recipient's external id.")] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
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
    rows = await list_logs(session, tenant.id, filters, limit + 1)
    page = rows[:limit]
    entries = [
        LogEntry.model_validate(
            {**{k: getattr(d, k) for k in LogEntry.model_fields if hasattr(d, k)},
             "event_key": n.event_key, "recipient": external_id}
        )
        for d, n, external_id in page
    ]
    next_cursor = _encode_cursor(page[-1][0].created_at, page[-1][0].id) if len(rows) > limit else None
    return LogPage(data=entries, next_cursor=next_cursor)
