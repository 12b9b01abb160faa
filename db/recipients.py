"""Recipients, always looked up within one tenant."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Recipient


async def get_recipient(session: AsyncSession, tenant_id: uuid.UUID, external_id: str) -> Recipient | None:
    return await session.scalar(
        select(Recipient).where(Recipient.tenant_id == tenant_id, Recipient.external_id == external_id)
    )


@dataclass(frozen=True)
class RecipientUpsert:
    """Create the recipient, or update the given fields of an existing one."""

    tenant_id: uuid.UUID
    external_id: str
    fields: dict[str, Any]

    def statement(self) -> Insert:
        """A Core statement on the table, not the ORM entity: it runs for most API requests."""
        table = Recipient.__table__
        return (
            insert(table)
            .values(id=uuid.uuid4(), tenant_id=self.tenant_id, external_id=self.external_id, **self.fields)
            .on_conflict_do_update(
                index_elements=[table.c.tenant_id, table.c.external_id],
                set_={**self.fields, "updated_at": func.now()},
            )
        )


async def upsert_recipient(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, fields: dict[str, Any]
) -> Recipient:
    """Create the recipient, or update the given fields of an existing one; returns the row."""
    statement = RecipientUpsert(tenant_id, external_id, fields).statement().returning(Recipient.__table__)
    return (await session.execute(statement)).one()
