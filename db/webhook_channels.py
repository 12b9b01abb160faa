"""Tenants' webhook channels (the URL notifications on channel `webhook` are POSTed to)."""

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.channel_models import WebhookChannel


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret_sealed: str


async def enabled_webhook_channel(
    session: AsyncSession, tenant_id: uuid.UUID
) -> WebhookTarget | None:
    row = (
        await session.execute(
            select(WebhookChannel.url, WebhookChannel.secret_sealed).where(
                WebhookChannel.tenant_id == tenant_id, WebhookChannel.enabled
            )
        )
    ).one_or_none()
    return WebhookTarget(row.url, row.secret_sealed) if row else None


async def webhook_channel(session: AsyncSession, tenant_id: uuid.UUID) -> WebhookChannel | None:
    """The tenant's channel, enabled or not."""
    return await session.get(WebhookChannel, tenant_id)


async def create_webhook_channel(
    session: AsyncSession, tenant_id: uuid.UUID, url: str, enabled: bool, secret_sealed: str
) -> WebhookChannel | None:
    """The new channel; None when the tenant has one already (left as it is)."""
    return (
        await session.scalars(
            insert(WebhookChannel)
            .values(tenant_id=tenant_id, url=url, enabled=enabled, secret_sealed=secret_sealed)
            .on_conflict_do_nothing(index_elements=[WebhookChannel.tenant_id])
            .returning(WebhookChannel)
        )
    ).one_or_none()


async def change_webhook_channel(
    session: AsyncSession, tenant_id: uuid.UUID, **values: object
) -> WebhookChannel | None:
    """Set `values` (url, enabled, secret_sealed) on the tenant's channel; None if it has none."""
    return (
        await session.scalars(
            update(WebhookChannel)
            .where(WebhookChannel.tenant_id == tenant_id)
            .values(**values, updated_at=func.now())
            .returning(WebhookChannel),
            execution_options={"synchronize_session": False},
        )
    ).one_or_none()


async def delete_webhook_channel(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await session.execute(delete(WebhookChannel).where(WebhookChannel.tenant_id == tenant_id))
