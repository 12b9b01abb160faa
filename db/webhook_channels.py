"""Tenants' webhook channels (the URL notifications on channel `webhook` are POSTed to)."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.channel_models import WebhookChannel

ROTATION_OVERLAP = timedelta(days=1)  # the previous secret signs this long after a rotation


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret_sealed: str
    previous_secret_sealed: str | None = None  # still signing (a rotation's overlap)


async def enabled_webhook_channel(
    session: AsyncSession, tenant_id: uuid.UUID
) -> WebhookTarget | None:
    still_signing = WebhookChannel.previous_secret_expires_at > func.now()
    row = (
        await session.execute(
            select(
                WebhookChannel.url,
                WebhookChannel.secret_sealed,
                case((still_signing, WebhookChannel.previous_secret_sealed)).label("previous"),
            ).where(WebhookChannel.tenant_id == tenant_id, WebhookChannel.enabled)
        )
    ).one_or_none()
    return WebhookTarget(row.url, row.secret_sealed, row.previous) if row else None


async def rotate_secret(
    session: AsyncSession, tenant_id: uuid.UUID, secret_sealed: str
) -> WebhookChannel | None:
    """The new secret signs from now on; the one it replaces also signs for ROTATION_OVERLAP.
    None if the tenant has no channel."""
    return (
        await session.scalars(
            update(WebhookChannel)
            .where(WebhookChannel.tenant_id == tenant_id)
            .values(
                previous_secret_sealed=WebhookChannel.secret_sealed,
                previous_secret_expires_at=func.now() + ROTATION_OVERLAP,
                secret_sealed=secret_sealed,
                updated_at=func.now(),
            )
            .returning(WebhookChannel),
            execution_options={"synchronize_session": False},
        )
    ).one_or_none()


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
