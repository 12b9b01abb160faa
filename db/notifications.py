"""Notifications as the API sees them: create idempotently, read."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, Notification, Recipient, table_of
from db.recipients import RecipientUpsert


@dataclass
class Created:
    notification: Any  # a row of the notifications table
    replayed: bool


async def create_notification(
    session: AsyncSession, values: dict[str, Any], recipient: RecipientUpsert | None = None
) -> Created:
    """Insert unless (tenant, idempotency key) exists; then return the existing one instead.

    With `recipient`, the recipient is created or updated in the same statement and becomes
    the notification's: one statement is atomic without a transaction, and one round trip
    where a transaction would take four. Core statements on the tables (rows, not entities):
    this runs for every accepted notification."""
    table = table_of(Notification)
    row = {"id": uuid.uuid4(), **values}
    same_key = (table.c.tenant_id == values["tenant_id"]) & (
        table.c.idempotency_key == values["idempotency_key"]
    )
    if recipient is None:
        statement = insert(table).values(**row)
    else:
        # A repeated key writes nothing, not even the recipient: a replay changes nothing,
        # and a conflicting one (409) must leave no trace.
        replay = exists().where(same_key)
        upserted = (
            recipient.statement(unless=replay).returning(Recipient.__table__.c.id).cte("recipient")
        )
        statement = insert(table).from_select(
            [*row, "recipient_id"],
            select(
                *(bindparam(name, value, type_=table.c[name].type) for name, value in row.items()),
                upserted.c.id,
            ),
        )
    inserted = (
        await session.execute(
            statement.on_conflict_do_nothing(
                index_elements=[table.c.tenant_id, table.c.idempotency_key]
            ).returning(table)
        )
    ).one_or_none()
    if inserted is not None:
        return Created(inserted, replayed=False)
    existing = (await session.execute(select(table).where(same_key))).one()
    return Created(existing, replayed=True)


async def get_notification(
    session: AsyncSession, tenant_id: uuid.UUID, notification_id: uuid.UUID
) -> tuple[Notification, str, list[Delivery]] | None:
    row = (
        await session.execute(
            select(Notification, Recipient.external_id)
            .join(Recipient, Recipient.id == Notification.recipient_id)
            .where(Notification.id == notification_id, Notification.tenant_id == tenant_id)
        )
    ).one_or_none()
    if row is None:
        return None
    deliveries = await session.scalars(
        select(Delivery)
        .where(Delivery.notification_id == notification_id, Delivery.tenant_id == tenant_id)
        .order_by(Delivery.created_at, Delivery.channel)
    )
    return row.Notification, row.external_id, list(deliveries)
