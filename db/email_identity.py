"""A tenant's email identity: its From name, From address and Reply-To."""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.email_headers import EmailIdentity

_LOAD = text("""
    SELECT from_name, from_address, reply_to FROM tenant_email_identities
    WHERE tenant_id = :tenant_id
""")

_SAVE = text("""
    INSERT INTO tenant_email_identities (tenant_id, from_name, from_address, reply_to)
    VALUES (:tenant_id, :from_name, :from_address, :reply_to)
    ON CONFLICT (tenant_id) DO UPDATE SET
        from_name = excluded.from_name, from_address = excluded.from_address,
        reply_to = excluded.reply_to, updated_at = now()
""")


async def load_email_identity(session: AsyncSession, tenant_id: uuid.UUID) -> EmailIdentity:
    """The tenant's identity; every field None when it has set none."""
    row = (await session.execute(_LOAD, {"tenant_id": tenant_id})).one_or_none()
    if row is None:
        return EmailIdentity()
    return EmailIdentity(row.from_name, row.from_address, row.reply_to)


async def save_email_identity(
    session: AsyncSession, tenant_id: uuid.UUID, identity: EmailIdentity
) -> None:
    await session.execute(
        _SAVE,
        {
            "tenant_id": tenant_id,
            "from_name": identity.from_name,
            "from_address": identity.from_address,
            "reply_to": identity.reply_to,
        },
    )
