"""A tenant's webhook channel (/v1/settings/webhook-channel): the URL notifications on channel
`webhook` are POSTed to, and the secret they are signed with (Standard Webhooks).

- The URL is refused (422 naming `url`, nothing written) as services/webhook_receivers.py says
  (https, no user, password or fragment, a host resolving to public addresses only); each send
  checks it again.
- The signing secret is made with the channel and shown in that answer only, and in
  rotate-secret's; at rest it is sealed (services/inbox_secrets.SecretBox, kid
  "webhook-channel"). Rotating makes a new one; for a day the old one signs too (every
  message carries both signatures), so a receiver can switch at its own pace.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from activities.channel_sends import WEBHOOK_SECRET_KID as SECRET_KID
from api.schemas.webhook_channel import (
    WebhookChannelPublic,
    WebhookChannelPut,
    WebhookChannelSaved,
)
from config.settings import Settings
from db import webhook_channels as store
from db.channel_models import WebhookChannel
from domain import standard_webhooks
from domain.tenants import TenantIdentity
from services.errors import Conflict, NotFound
from services.inbox_secrets import secret_box
from services.webhook_receivers import check_url, secret_hint


async def webhook_channel(
    session: AsyncSession, settings: Settings, tenant: TenantIdentity
) -> WebhookChannelPublic:
    row = await store.webhook_channel(session, tenant.id)
    if row is None:
        raise NotFound("the tenant has no webhook channel: PUT one")
    return _public(settings, row)


async def put_webhook_channel(
    session: AsyncSession, settings: Settings, tenant: TenantIdentity, body: WebhookChannelPut
) -> tuple[WebhookChannelSaved, bool]:
    """The channel as saved, and whether this PUT created it (its answer then carries the new
    signing secret). An existing channel keeps its secret."""
    await check_url(body.url, settings.webhook_allow_private_addresses)
    secret, sealed = _new_secret(settings, tenant)
    async with session.begin():
        row = await store.create_webhook_channel(session, tenant.id, body.url, body.enabled, sealed)
        created = row is not None
        if row is None:
            row = await store.change_webhook_channel(
                session, tenant.id, url=body.url, enabled=body.enabled
            )
        if row is None:  # deleted between the two statements
            raise Conflict("the webhook channel was deleted meanwhile: PUT it again")
        shown = _public(settings, row).model_dump()
    return WebhookChannelSaved(**shown, secret=secret if created else None), created


async def rotate_webhook_secret(
    session: AsyncSession, settings: Settings, tenant: TenantIdentity
) -> WebhookChannelSaved:
    """A new signing secret, shown in this answer only; the old one also signs for a day
    (db.webhook_channels.ROTATION_OVERLAP), so receivers switch over without a gap."""
    secret, sealed = _new_secret(settings, tenant)
    async with session.begin():
        row = await store.rotate_secret(session, tenant.id, sealed)
        if row is None:
            raise NotFound("the tenant has no webhook channel: PUT one")
        shown = _public(settings, row).model_dump()
    return WebhookChannelSaved(**shown, secret=secret)


async def delete_webhook_channel(session: AsyncSession, tenant: TenantIdentity) -> None:
    """No channel afterwards (none before is no error); its notifications are suppressed."""
    async with session.begin():
        await store.delete_webhook_channel(session, tenant.id)


def _new_secret(settings: Settings, tenant: TenantIdentity) -> tuple[str, str]:
    """A new signing secret, and it sealed for the table."""
    secret = standard_webhooks.new_secret()
    return secret, secret_box(settings).seal(tenant.id, SECRET_KID, secret)


def _public(settings: Settings, row: WebhookChannel) -> WebhookChannelPublic:
    return WebhookChannelPublic(
        url=row.url,
        enabled=row.enabled,
        secret_hint=secret_hint(settings, row.tenant_id, SECRET_KID, row.secret_sealed),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
