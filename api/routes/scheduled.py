"""GET /v1/scheduled, POST /v1/scheduled/{id}/cancel and /reschedule."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.schemas.scheduling import Reschedule, ScheduledChange, ScheduledPage
from services.scheduled import cancel_scheduled, list_scheduled, reschedule_scheduled

router = APIRouter(prefix="/v1/scheduled", tags=["scheduled"])


@router.get("", response_model=ScheduledPage)
async def index(
    tenant: TenantDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> ScheduledPage:
    """Notifications waiting for their send_at or a deferral, and pending booking reminders,
    by due time."""
    return await list_scheduled(session, tenant, limit)


@router.post("/{id}/cancel", response_model=ScheduledChange)
async def cancel(
    id: uuid.UUID, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> ScheduledChange:
    return await cancel_scheduled(session, temporal, tenant, id)


@router.post("/{id}/reschedule", response_model=ScheduledChange)
async def reschedule(
    id: uuid.UUID,
    body: Reschedule,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ScheduledChange:
    """A booking reminder moves to the new time; a notification is cancelled and replaced by
    a copy with the new send_at (`replaced_by`)."""
    return await reschedule_scheduled(session, temporal, settings, tenant, id, body.send_at)
