"""Recipients, always looked up within one tenant."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, func, select
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

    def statement(self) -> Insert:
        """A Core statement on the table, not the ORM entity: it runs for most API requests."""
        table = table_of(Recipient)
        row = dict(
            id=uuid.uuid4(), tenant_id=self.tenant_id, external_id=self.external_id, **self.fields
        )
        return (
            insert(table)
            .values(**row)
            .on_conflict_do_update(
                index_elements=[table.c.tenant_id, table.c.external_id],
                set_={**self.fields, "updated_at": func.now()},
            )
        )

    def parameters(self) -> dict[str, Any]:
        """The values of `upsert_unless(self.field_names(), ...)`, by parameter name."""
        return {
            "r_id": uuid.uuid4(),
            "r_tenant_id": self.tenant_id,
            "r_external_id": self.external_id,
            **{f"r_{name}": value for name, value in self.fields.items()},
        }

    def field_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.fields))


def upsert_unless(fields: tuple[str, ...], unless: ColumnElement[bool]) -> Insert:
    """A RecipientUpsert with these fields that writes nothing where `unless` holds, its values
    bound at execution (`RecipientUpsert.parameters`), so that it can be built once and reused."""
    table = table_of(Recipient)

    def value(column: str) -> BindParameter[Any]:
        return bindparam(f"r_{column}", type_=table.c[column].type)

    columns = ["id", "tenant_id", "external_id", *fields]
    return (
        insert(table)
        .from_select(columns, select(*(value(c) for c in columns)).where(~unless))
        .on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.external_id],
            set_={**{f: value(f) for f in fields}, "updated_at": func.now()},
            where=~unless,
        )
    )


async def upsert_recipient(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, fields: dict[str, Any]
) -> Recipient:
    """Create the recipient, or update the given fields of an existing one; returns the row."""
    statement = (
        RecipientUpsert(tenant_id, external_id, fields).statement().returning(Recipient.__table__)
    )
    return (await session.execute(statement)).one()
