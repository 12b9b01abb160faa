"""A tenant's webhook channel (/v1/settings/webhook-channel): the URL notifications on channel
`webhook` are POSTed to, and the secret they are signed with (Standard Webhooks).

- The URL is refused (422 naming `url`, nothing written) unless it is https (http only with
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES), carries no user, password or fragment, and its host
  resolves now to public addresses only (channels/safe_http.py). Each send checks it again:
  a name's DNS answer may change after it was stored.
- The signing secret is made with the channel and shown in that answer only, and in
  rotate-secret's; at rest it is sealed (services/inbox_secrets.SecretBox, kid
  "webhook-channel"). Rotating makes a new one; for a day the old one signs too (every
  message carries both signatures), so a receiver can switch at its own pace.
"""

from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from activities.channel_sends import WEBHOOK_SECRET_KID as SECRET_KID
from api.schemas.webhook_channel import (
    WebhookChannelPublic,
    WebhookChannelPut,
    WebhookChannelSaved,
)
from channels.base import TransientSendError
from channels.safe_http import RefusedAddress, resolve_checked
from config.settings import Settings
from db import webhook_channels as store
from db.channel_models import WebhookChannel
from domain import standard_webhooks
from domain.tenants import TenantIdentity
from services.errors import Conflict, NotFound, ServiceError, invalid_field
from services.inbox_secrets import secret_box

HINT_CHARS = 4


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


async def check_url(url: str, allow_private: bool) -> None:
    """Refuses (422 naming `url`) a URL Herald would not call; see the module's doc."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError as exc:
        raise invalid_field("url", f"is not a URL: {exc}") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        wanted = "http(s)" if allow_private else "https"
        raise invalid_field("url", f"must be an {wanted} URL with a host")
    if parts.username is not None or parts.password is not None:
        raise invalid_field("url", "may not carry a user or password")
    if parts.fragment or url.endswith("#"):
        raise invalid_field("url", "may not have a fragment (#...): it is never sent")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise invalid_field("url", "may not contain spaces or control characters")
    try:
        await resolve_checked(url, allow_private)
    except RefusedAddress as exc:
        raise invalid_field("url", exc.message) from None
    except TransientSendError as exc:
        raise invalid_field("url", f"its host does not resolve now ({exc.message})") from None


def _new_secret(settings: Settings, tenant: TenantIdentity) -> tuple[str, str]:
    """A new signing secret, and it sealed for the table."""
    secret = standard_webhooks.new_secret()
    return secret, secret_box(settings).seal(tenant.id, SECRET_KID, secret)


def _public(settings: Settings, row: WebhookChannel) -> WebhookChannelPublic:
    return WebhookChannelPublic(
        url=row.url,
        enabled=row.enabled,
        secret_hint=_hint(settings, row),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _hint(settings: Settings, row: WebhookChannel) -> str | None:
    """`whsec_…` and the secret's last characters; None when it does not open (SECRET_KEY
    changed): the tenant can still see its channel and rotate the secret."""
    try:
        secret = secret_box(settings).open(row.tenant_id, SECRET_KID, row.secret_sealed)
    except ServiceError:
        return None
    return standard_webhooks.SECRET_PREFIX + "…" + secret[-HINT_CHARS:]
