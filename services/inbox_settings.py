"""A tenant's inbox settings (GET/PATCH /v1/settings/inbox): the origins its pages may call the
inbox from, whether the HMAC scheme is on, how long Herald's tokens live."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.inbox_settings import InboxSettingsPatch, InboxSettingsPublic
from db import inbox_secrets as db
from db.inbox_models import TenantInboxSettings
from domain.inbox_tokens import InboxSettings
from domain.tenants import TenantIdentity
from services.inbox_cache import InboxAuthCache


async def load_inbox_settings(session: AsyncSession, tenant_id: uuid.UUID) -> InboxSettings:
    row = await db.inbox_settings(session, tenant_id)
    return _settings(row) if row is not None else InboxSettings()


async def inbox_settings(session: AsyncSession, tenant: TenantIdentity) -> InboxSettingsPublic:
    return _public(await load_inbox_settings(session, tenant.id))


async def patch_inbox_settings(
    session: AsyncSession, cache: InboxAuthCache, tenant: TenantIdentity, body: InboxSettingsPatch
) -> InboxSettingsPublic:
    """Changes the fields given (validated by the schema: 422 naming the field, nothing
    written). Other API processes see the change within API_KEY_CACHE_SECONDS."""
    changes = body.model_dump(exclude_none=True)
    if "allowed_origins" in changes:
        changes["allowed_origins"] = list(dict.fromkeys(changes["allowed_origins"]))  # no repeats
    async with session.begin():
        row = await db.save_inbox_settings(session, tenant.id, changes)
        saved = _settings(row)
    cache.settings.forget(tenant.id)
    return _public(saved)


def _settings(row: TenantInboxSettings) -> InboxSettings:
    return InboxSettings(tuple(row.allowed_origins), row.hmac_enabled, row.token_ttl_seconds)


def _public(settings: InboxSettings) -> InboxSettingsPublic:
    return InboxSettingsPublic(
        allowed_origins=list(settings.allowed_origins),
        hmac_enabled=settings.hmac_enabled,
        token_ttl_seconds=settings.token_ttl_seconds,
    )
