"""PUT/GET /v1/organizers/{organizer_id}/agenda: the organizer's daily agenda Schedule."""

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.schemas.events import OrganizerId
from api.schemas.scheduling import AgendaPublic, AgendaPut
from services import agendas

router = APIRouter(prefix="/v1/organizers", tags=["agenda"])


@router.put("/{organizer_id}/agenda", response_model=AgendaPublic)
async def put_agenda(
    organizer_id: OrganizerId,
    body: AgendaPut,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> AgendaPublic:
    """Create, update or pause (`paused: true`) the organizer's agenda; fields left out
    follow their preferences. Call it again after their preferences change."""
    return await agendas.put_agenda(session, temporal, settings, tenant, organizer_id, body)


@router.get("/{organizer_id}/agenda", response_model=AgendaPublic)
async def get_agenda(
    organizer_id: OrganizerId, tenant: TenantDep, temporal: TemporalDep
) -> AgendaPublic:
    return await agendas.get_agenda(temporal, tenant, organizer_id)
