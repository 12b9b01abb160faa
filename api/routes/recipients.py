"""PUT/GET /v1/recipients/{external_id}."""

from fastapi import APIRouter

from api.deps import SessionDep, TenantDep
from api.schemas.common import ExternalId
from api.schemas.notifications import RecipientFields, RecipientPublic
from services import recipients

router = APIRouter(prefix="/v1/recipients", tags=["recipients"])


@router.put("/{external_id}", response_model=RecipientPublic)
async def put_recipient(
    external_id: ExternalId, body: RecipientFields, tenant: TenantDep, session: SessionDep
) -> RecipientPublic:
    """Create or replace a recipient's contact details."""
    return await recipients.put_recipient(session, tenant, external_id, body)


@router.get("/{external_id}", response_model=RecipientPublic)
async def get_recipient(
    external_id: str, tenant: TenantDep, session: SessionDep
) -> RecipientPublic:
    return await recipients.read_recipient(session, tenant, external_id)
