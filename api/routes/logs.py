"""GET /v1/logs: every delivery, filtered, newest first, cursor-paginated."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.common import DateTime
from api.schemas.notifications import LogPage
from domain.filters import LogFilter
from domain.types import Channel, DeliveryStatus
from services.logs import delivery_log

router = APIRouter(prefix="/v1/logs", tags=["logs"])


@router.get("", response_model=LogPage)
async def list_logs(
    tenant: TenantDep,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    channel: Channel | None = None,
    event_key: str | None = None,
    recipient: Annotated[str | None, Query(description="The recipient's external id.")] = None,
    since: Annotated[DateTime | None, Query(alias="from")] = None,
    until: Annotated[DateTime | None, Query(alias="to")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> LogPage:
    filters = LogFilter(status, channel, event_key, recipient, since, until)
    return await delivery_log(session, tenant, filters, cursor, limit)
