"""Tenants' webhook channels (the URL notifications on channel `webhook` are POSTed to)."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select
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
