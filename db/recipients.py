"""Recipients, always looked up within one tenant."""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Recipient


async def get_recipient(session: AsyncSession, tenant_id: uuid.UUID, external_id: str) -> Recipient | None:
    return await session.scalar(
        select(Recipient).where(Recipient.tenant_id == tenant_id, Recipient.external_id == external_id)
    )


async def upsert_recipient(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, fields: dict[str, Any]
) -> Recipient:
    """Create the recipient, or update the given fields of an existing one; returns the row.

    A Core statement on the table, not the ORM entity: it runs for most API requests."""
    table = Recipient.__table__
    statement = (
        insert(table)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, external_id=external_id, **fields)
        .on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.external_id],
            set_={**fields, "updated_at": func.now()},
        )
        .returning(table)
    )
    return (await session.execute(statement)).one()
