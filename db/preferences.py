"""Preferences as stored: the tenant's defaults and each recipient's own changes to them."""

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Notification, Recipient, Tenant
from db.scheduled import WAITING


async def tenant_defaults(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any]:
    return (
        await session.scalar(select(Tenant.preference_defaults).where(Tenant.id == tenant_id)) or {}
    )


async def save_tenant_defaults(
    session: AsyncSession, tenant_id: uuid.UUID, defaults: dict[str, Any]
) -> None:
    await session.execute(
        update(Tenant).where(Tenant.id == tenant_id).values(preference_defaults=defaults)
    )


async def save_overrides(
    session: AsyncSession, recipient_id: uuid.UUID, overrides: dict[str, Any]
) -> None:
    await session.execute(
        update(Recipient).where(Recipient.id == recipient_id).values(preference_overrides=overrides)
    )


async def waiting_workflow_ids(
    session: AsyncSession, tenant_id: uuid.UUID, recipient_id: uuid.UUID
) -> list[str]:
    """The workflows of the recipient's notifications that wait (send_at, quiet hours...)."""
    found = await session.scalars(
        select(Notification.workflow_id).where(
            Notification.tenant_id == tenant_id,
            Notification.recipient_id == recipient_id,
            Notification.status.in_(WAITING),
        )
    )
    return list(found)
