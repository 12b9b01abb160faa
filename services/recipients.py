"""Recipients: their contact details, created or replaced by the tenant's own id for them."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.notifications import RecipientFields, RecipientPublic
from db.models import Recipient
from db.recipients import get_recipient, upsert_recipient
from domain.tenants import TenantIdentity
from services.errors import NotFound


async def find_recipient(
    session: AsyncSession, tenant: TenantIdentity, external_id: str
) -> Recipient:
    recipient = await get_recipient(session, tenant.id, external_id)
    if recipient is None:
        raise NotFound(f"recipient {external_id!r} not found")
    return recipient


async def read_recipient(
    session: AsyncSession, tenant: TenantIdentity, external_id: str
) -> RecipientPublic:
    return _public(await find_recipient(session, tenant, external_id))


async def put_recipient(
    session: AsyncSession, tenant: TenantIdentity, external_id: str, fields: RecipientFields
) -> RecipientPublic:
    """Create the recipient, or replace its contact details."""
    async with session.begin():
        recipient = await upsert_recipient(session, tenant.id, external_id, fields.model_dump())
    return _public(recipient)


def _public(recipient: object) -> RecipientPublic:
    return RecipientPublic.model_validate(recipient, from_attributes=True)
