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
    """Create the recipient, or update the given fields of an existing one; returns the row."""
    statement = (
        insert(Recipient)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, external_id=external_id, **fields)
        .on_conflict_do_update(
            index_elements=[Recipient.tenant_id, Recipient.external_id],
            set_={**fields, "updated_at": func.now()},
        )
        .returning(Recipient)
    )
    return (await session.scalars(statement, execution_options={"populate_existing": True})).one()
