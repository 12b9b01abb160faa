"""PUT/GET /v1/recipients/{external_id}."""

from fastapi import APIRouter, Path

from api.deps import SessionDep, TenantDep
from api.errors import ApiError
from api.schemas import ExternalId, RecipientFields, RecipientPublic
from db.recipients import get_recipient, upsert_recipient

router = APIRouter(prefix="/v1/recipients", tags=["recipients"])


def _public(recipient) -> RecipientPublic:
    return RecipientPublic.model_validate(recipient, from_attributes=True)


@router.put("/{external_id}", response_model=RecipientPublic)
async def put(external_id: ExternalId, body: RecipientFields, tenant: TenantDep, session: SessionDep) -> RecipientPublic:
    """Create or replace a recipient's contact details."""
    async with session.begin():
        recipient = await upsert_recipient(session, tenant.id, external_id, body.model_dump())
    return _public(recipient)


@router.get("/{external_id}", response_model=RecipientPublic)
async def get(external_id: str, tenant: TenantDep, session: SessionDep) -> RecipientPublic:
    recipient = await get_recipient(session, tenant.id, external_id)
    if recipient is None:
        raise ApiError(404, "not_found", f"recipient {external_id!r} not found")
    return _public(recipient)
