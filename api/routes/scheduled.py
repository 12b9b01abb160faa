"""GET /v1/scheduled, POST /v1/scheduled/{id}/cancel and /reschedule."""

import uuid

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.scheduling import Reschedule, ScheduledChange, ScheduledPage
from services import scheduled

router = APIRouter(prefix="/v1/scheduled", tags=["scheduled"])


# What cancel and reschedule answer when there is nothing left to change.
FINISHED: dict[int | str, dict] = {
    409: {
        "description": "It has been sent, cancelled or otherwise finished, or the reminder "
        "cannot change any more."
    }
}


@router.get("", response_model=ScheduledPage)
async def list_scheduled(
    tenant: TenantDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> ScheduledPage:
    """Notifications waiting for their send_at or a deferral, and pending booking reminders,
    by due time."""
    return await scheduled.list_scheduled(session, tenant, cursor, limit)


@router.post(
    "/{id}/cancel",
    response_model=ScheduledChange,
    responses=FINISHED,
)
async def cancel_scheduled(
    id: uuid.UUID, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> ScheduledChange:
    return await scheduled.cancel_scheduled(session, temporal, tenant, id)


@router.post(
    "/{id}/reschedule",
    response_model=ScheduledChange,
    responses=FINISHED,
)
async def reschedule_scheduled(
    id: uuid.UUID,
    body: Reschedule,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ScheduledChange:
    """A booking reminder moves to the new time; a notification is cancelled and replaced by
    a copy with the new send_at (`replaced_by`)."""
    return await scheduled.reschedule_scheduled(
        session, temporal, settings, tenant, id, body.send_at
    )
