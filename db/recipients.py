"""Recipients, always looked up within one tenant."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Recipient, table_of


async def get_recipient(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, *, for_update: bool = False
) -> Recipient | None:
    """With `for_update`, the row stays locked until the transaction ends (a read-modify-write)."""
    query = select(Recipient).where(
        Recipient.tenant_id == tenant_id, Recipient.external_id == external_id
    )
    return await session.scalar(query.with_for_update() if for_update else query)


@dataclass(frozen=True)
class RecipientUpsert:
    """Create the recipient, or update the given fields of an existing one."""

    tenant_id: uuid.UUID
    external_id: str
    fields: dict[str, Any]

    def statement(self, unless: ColumnElement[bool] | None = None) -> Insert:
        """A Core statement on the table, not the ORM entity: it runs for most API requests.
        With `unless`, it writes nothing where that condition holds."""
        table = table_of(Recipient)
        row = dict(
            id=uuid.uuid4(), tenant_id=self.tenant_id, external_id=self.external_id, **self.fields
        )
        if unless is None:
            statement = insert(table).values(**row)
        else:
            values = select(
                *(bindparam(name, value, type_=table.c[name].type) for name, value in row.items())
            )
            statement = insert(table).from_select(list(row), values.where(~unless))
        return statement.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.external_id],
            set_={**self.fields, "updated_at": func.now()},
            where=None if unless is None else ~unless,
        )


async def upsert_recipient(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, fields: dict[str, Any]
) -> Recipient:
    """Create the recipient, or update the given fields of an existing one; returns the row."""
    statement = (
        RecipientUpsert(tenant_id, external_id, fields).statement().returning(Recipient.__table__)
    )
    return (await session.execute(statement)).one()
