"""POST /v1/deliveries/{id}/resend and bulk resend by filter."""

import uuid
from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, StrictInt

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.schemas.common import DateTime, EventKey, InputModel
from domain.filters import ResendFilter
from domain.types import Channel
from services import resend
from services.resend import BulkResendResult, Resent

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])


@router.post(
    "/{delivery_id}/resend",
    status_code=202,
    response_model=Resent,
    responses={
        409: {
            "description": "The delivery cannot be resent: it was already, it is not failed or "
            "bounced, the recipient has no such address any more, or the address is suppressed."
        }
    },
)
async def resend_delivery(
    delivery_id: uuid.UUID,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Resent:
    """Send a failed or bounced delivery again, as a new attempt chain linked to this one."""
    return await resend.resend_delivery(session, temporal, settings, tenant.id, delivery_id)


class BulkResend(InputModel):
    status: Annotated[str, Field(pattern="^(failed|bounced)$")] | None = None
    channel: Channel | None = None
    event_key: EventKey | None = None
    since: DateTime | None = Field(None, alias="from")
    until: DateTime | None = Field(None, alias="to")
    limit: Annotated[StrictInt, Field(ge=1, le=500)] = 100


@router.post("/resend", status_code=202, response_model=BulkResendResult)
async def resend_deliveries(
    body: BulkResend,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> BulkResendResult:
    """Resend every failed or bounced delivery matching the filter (at most `limit`)."""
    filters = ResendFilter(
        body.limit, body.status, body.channel, body.event_key, body.since, body.until
    )
    return await resend.resend_matching(session, temporal, settings, tenant.id, filters)
