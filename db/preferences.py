"""Preferences as stored: the tenant's defaults and each recipient's own changes to them.

A change to the defaults is checked against every recipient's overrides, so the two must not
interleave: a defaults change locks the tenant's row (FOR UPDATE), a recipient's change reads
the defaults under a key-share lock, which that waits for (and ordinary updates of the tenant
row do not)."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Notification, Recipient, Tenant
from db.scheduled import WAITING


async def tenant_defaults(
    session: AsyncSession, tenant_id: uuid.UUID, *, for_change: bool = False
) -> Any:
    """The stored defaults (any JSON: an older version may have stored anything). With
    `for_change`, inside a transaction that will write a recipient's overrides."""
    query = select(Tenant.preference_defaults).where(Tenant.id == tenant_id)
    if for_change:
        query = query.with_for_update(key_share=True, read=True)
    return await session.scalar(query)


async def lock_tenant_defaults(session: AsyncSession, tenant_id: uuid.UUID) -> Any:
    """The stored defaults, locked until the transaction ends: no recipient's overrides change
    meanwhile."""
    return await session.scalar(
        select(Tenant.preference_defaults).where(Tenant.id == tenant_id).with_for_update()
    )


async def save_tenant_defaults(
    session: AsyncSession, tenant_id: uuid.UUID, defaults: dict[str, Any]
) -> None:
    await session.execute(
        update(Tenant).where(Tenant.id == tenant_id).values(preference_defaults=defaults)
    )


@dataclass(frozen=True)
class OverridesInUse:
    """One distinct overrides document stored for some of a tenant's recipients."""

    overrides: Any
    recipients: int  # how many have it
    first_external_ids: list[str]  # the first few of them, in order


async def overrides_in_use(
    session: AsyncSession, tenant_id: uuid.UUID, named: int
) -> AsyncIterator[OverridesInUse]:
    """Every distinct overrides document of the tenant's recipients (but the empty one), so
    each is checked once however many recipients share it, with up to `named` of their ids."""
    first_ids = func.array_agg(aggregate_order_by(Recipient.external_id, Recipient.external_id))
    rows = await session.stream(
        select(Recipient.preference_overrides, func.count(), first_ids[1:named])
        .where(Recipient.tenant_id == tenant_id, Recipient.preference_overrides != {})
        .group_by(Recipient.preference_overrides)
        .execution_options(yield_per=1000)
    )
    async for overrides, count, external_ids in rows:
        yield OverridesInUse(overrides, count, list(external_ids))


async def save_overrides(
    session: AsyncSession, recipient_id: uuid.UUID, overrides: dict[str, Any]
) -> None:
    await session.execute(
        update(Recipient).where(Recipient.id == recipient_id).values(preference_overrides=overrides)
    )


async def waiting_workflow_ids(
    session: AsyncSession, tenant_id: uuid.UUID, recipient_id: uuid.UUID
) -> list[str]:
    """The workflows of the recipient's notifications that wait (send_at, quiet hours...). Not
    a broadcast's: it has no workflow of its own (its BroadcastWorkflow decides a deferred
    recipient again when it releases it)."""
    found = await session.scalars(
        select(Notification.workflow_id).where(
            Notification.tenant_id == tenant_id,
            Notification.recipient_id == recipient_id,
            Notification.status.in_(WAITING),
            Notification.broadcast_id.is_(None),
        )
    )
    return list(found)
