"""Notifications as the API sees them: create idempotently, read."""

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from db.deliveries import delivery_id_for
from db.models import Delivery, Notification, Recipient, table_of
from db.recipients import RecipientUpsert, upsert_unless
from domain.types import Channel, DeliveryStatus


@dataclass
class Created:
    notification: Any  # a row of the notifications table
    replayed: bool


async def create_notification(
    session: AsyncSession,
    values: dict[str, Any],
    recipient: RecipientUpsert | uuid.UUID,
    claim_key: bool = True,
) -> Created:
    """Insert unless (tenant, idempotency key) exists; then return the existing one instead.

    `recipient` is a known recipient's id, or contact details to create or update the
    recipient with in the same statement. Either way the notification keeps the recipient's
    addresses as they are now (recipient_email, recipient_phone): planning sends to those, so a
    later write to the recipient cannot redirect it.

    Runs in the caller's transaction, and claims the key first: a transaction-scoped advisory
    lock on (tenant, key) makes concurrent requests with one key take turns, so the second
    sees the first's committed notification and writes nothing, not even the recipient's
    contact details: a replay changes nothing, and a conflicting one (409) leaves no trace.
    (Without the lock, the statement's "unless the key exists" check saw a snapshot in which
    neither request's notification existed yet: both wrote the recipient, and the refused
    request's address could be the one the accepted notification was sent to.)"""
    table = table_of(Notification)
    tenant_id, key = values["tenant_id"], values["idempotency_key"]
    if claim_key:  # a key Herald drew itself (claim_key=False) no other request can share
        await session.execute(select(func.pg_advisory_xact_lock(_key_lock(tenant_id, key))))
    row = {"id": uuid.uuid4(), **values}
    parameters = {f"n_{name}": value for name, value in row.items()}
    if isinstance(recipient, RecipientUpsert):
        statement = _create_statement(tuple(row), recipient.field_names())
        parameters |= recipient.parameters()
    else:
        statement = _create_statement(tuple(row), None)
        parameters["recipient"] = recipient
    inserted = (await session.execute(statement, parameters)).one_or_none()
    if inserted is not None:
        return Created(inserted, replayed=False)
    same_key = (table.c.tenant_id == tenant_id) & (table.c.idempotency_key == key)
    existing = (await session.execute(select(table).where(same_key))).one_or_none()
    if existing is None:  # nothing inserted, and not for the key: the recipient is not there
        raise LookupError(f"recipient {recipient} not found in tenant {tenant_id}")
    return Created(existing, replayed=True)


@functools.lru_cache(maxsize=64)
def _create_statement(
    columns: tuple[str, ...], contact_fields: tuple[str, ...] | None
) -> ReturningInsert[Any]:
    """create_notification's insert of a notification with these columns (parameters
    `n_<column>`), whose recipient has these contact fields (`r_<field>`: created or updated in
    the statement), or (None) is known by its id (`recipient`). Built once per shape, its values
    bound at execution: building and hashing it anew took about half a millisecond a request."""
    table = table_of(Notification)
    same_key = (table.c.tenant_id == bindparam("n_tenant_id")) & (
        table.c.idempotency_key == bindparam("n_idempotency_key")
    )
    replay = exists().where(same_key)
    recipients = Recipient.__table__.c
    addresses = (
        upsert_unless(contact_fields, unless=replay).returning(
            recipients.id, recipients.email, recipients.phone
        )
        if contact_fields is not None
        else select(recipients.id, recipients.email, recipients.phone).where(
            recipients.id == bindparam("recipient"),
            recipients.tenant_id == bindparam("n_tenant_id"),
            ~replay,
        )
    ).cte("recipient")
    statement = insert(table).from_select(
        [*columns, "recipient_id", "recipient_email", "recipient_phone"],
        select(
            *(bindparam(f"n_{name}", type_=table.c[name].type) for name in columns),
            addresses.c.id,
            addresses.c.email,
            addresses.c.phone,
        ),
    )
    return statement.returning(table)


def _key_lock(tenant_id: uuid.UUID, idempotency_key: str) -> int:
    """The advisory lock id of a tenant's idempotency key: 64 bits of its digest (a collision
    only makes two unrelated requests take turns)."""
    digest = hashlib.sha256(f"notification-key:{tenant_id}:{idempotency_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def fail_channels_never_planned(
    session: AsyncSession, notification_id: uuid.UUID, reason: str
) -> None:
    """A notification whose planning failed for good: each channel it was for that has no
    delivery yet gets one, `failed` with the reason, so the failure shows where operators look
    (/v1/logs, the notification's deliveries). The channels it was for: those it named; when it
    named none (its recipient's preferences would have chosen), those it has an address for,
    or in-app."""
    found = (
        await session.execute(
            select(
                Notification.tenant_id,
                Notification.channels,
                func.coalesce(Notification.recipient_email, Recipient.email).label("email"),
                func.coalesce(Notification.recipient_phone, Recipient.phone).label("phone"),
            )
            .join(Recipient, Recipient.id == Notification.recipient_id)
            .where(Notification.id == notification_id)
        )
    ).one_or_none()
    if found is None:
        return
    addresses = {Channel.EMAIL: found.email, Channel.SMS: found.phone}
    channels = found.channels or [c for c, a in addresses.items() if a] or [Channel.IN_APP]
    planned = set(
        await session.scalars(
            select(Delivery.channel).where(Delivery.notification_id == notification_id)
        )
    )
    rows = [
        dict(
            id=delivery_id_for(notification_id, channel),
            tenant_id=found.tenant_id,
            notification_id=notification_id,
            channel=channel,
            address=addresses.get(Channel(channel)),
            status=DeliveryStatus.FAILED,
            status_reason=reason,
            failed_at=func.now(),
        )
        for channel in channels
        if channel not in planned
    ]
    if rows:
        await session.execute(
            insert(table_of(Delivery)).values(rows).on_conflict_do_nothing(index_elements=["id"])
        )


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
