"""Recipients: their contact details, created or replaced by the tenant's own id for them, or
changed field by field (a JSON merge patch)."""

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.notifications import RecipientFields, RecipientPublic
from db.models import Recipient
from db.recipients import get_recipient, upsert_recipient
from domain.merge_patch import merge_patch
from domain.operators import Operator
from domain.tenants import TenantIdentity
from services import audit
from services.errors import NotFound, first_invalid_field


async def find_recipient(
    session: AsyncSession, tenant: TenantIdentity, external_id: str, *, for_update: bool = False
) -> Recipient:
    recipient = await get_recipient(session, tenant.id, external_id, for_update=for_update)
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
    """Create the recipient, or replace its contact details: a field left out takes its
    default (no name, email, phone or chat address; UTC; en)."""
    async with session.begin():
        recipient = await upsert_recipient(session, tenant.id, external_id, fields.model_dump())
    return _public(recipient)


async def patch_recipient(
    session: AsyncSession,
    tenant: TenantIdentity,
    external_id: str,
    patch: dict[str, Any],
    by: Operator | None = None,
) -> RecipientPublic:
    """Change some contact details of an existing recipient (RFC 7396: `null` removes a
    field, which then takes its default; fields left out keep their values; chat_addresses
    merge by platform, `null` removing one). The result is
    validated as a whole; when it is not valid nothing is written. A change an operator
    makes (`by`, from the dashboard) goes in the audit log with it."""
    async with session.begin():
        current = await find_recipient(session, tenant, external_id, for_update=True)
        document = {
            name: getattr(current, name)
            for name in RecipientFields.model_fields
            if getattr(current, name) is not None
        }
        try:
            fields = RecipientFields.model_validate(merge_patch(document, patch))
        except ValidationError as exc:
            raise first_invalid_field(exc) from None
        recipient = await upsert_recipient(session, tenant.id, external_id, fields.model_dump())
        if by is not None:
            details = {"fields": sorted(patch)}
            await audit.record(session, by, "recipient.update", f"recipient {external_id}", details)
    return _public(recipient)


def _public(recipient: object) -> RecipientPublic:
    return RecipientPublic.model_validate(recipient, from_attributes=True)
