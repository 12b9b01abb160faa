"""Preferences: a recipient's own changes over the tenant's defaults, and those defaults.

A recipient's change reaches what is already under way: notifications waiting for them
decide again at once, and an organizer's agenda Schedule follows its time, weekends and timezone.
"""

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from config.settings import Settings
from db import preferences as store
from domain.preferences import Preferences, effective_preferences, merge_overrides
from domain.tenants import TenantIdentity
from services.agendas import AGENDA_PREFERENCES, follow_preferences
from services.errors import invalid_field
from services.recipients import find_recipient
from temporal_clients.notifications import notify_preferences_changed


async def get_preferences(
    session: AsyncSession, tenant: TenantIdentity, external_id: str
) -> Preferences:
    """The effective preferences: the tenant's defaults overlaid with the recipient's changes."""
    recipient = await find_recipient(session, tenant, external_id)
    return _validated(
        await store.tenant_defaults(session, tenant.id), recipient.preference_overrides
    )


async def replace_preferences(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    overrides: dict[str, Any],
) -> Preferences:
    """Replace the recipient's changes; fields left out follow the tenant's defaults."""
    return await _store(session, temporal, settings, tenant, external_id, lambda current: overrides)


async def patch_preferences(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    patch: dict[str, Any],
) -> Preferences:
    """Change some fields (a JSON merge patch); the others keep their values."""
    return await _store(
        session,
        temporal,
        settings,
        tenant,
        external_id,
        lambda current: merge_overrides(current, patch),
    )


async def get_defaults(session: AsyncSession, tenant: TenantIdentity) -> Preferences:
    return _validated(await store.tenant_defaults(session, tenant.id), {})


async def put_defaults(
    session: AsyncSession, tenant: TenantIdentity, defaults: dict[str, Any]
) -> Preferences:
    effective = _validated(defaults, {})
    async with session.begin():
        await store.save_tenant_defaults(session, tenant.id, defaults)
    return effective


async def _store(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> Preferences:
    async with session.begin():
        recipient = await find_recipient(session, tenant, external_id)
        defaults = await store.tenant_defaults(session, tenant.id)
        before = _validated(defaults, recipient.preference_overrides)
        overrides = change(recipient.preference_overrides)
        effective = _validated(defaults, overrides)
        await store.save_overrides(session, recipient.id, overrides)
        waiting = await store.waiting_workflow_ids(session, tenant.id, recipient.id)
    await notify_preferences_changed(temporal, waiting)
    if any(getattr(before, name) != getattr(effective, name) for name in AGENDA_PREFERENCES):
        await follow_preferences(session, temporal, settings, tenant, external_id)
    return effective


def _validated(defaults: dict[str, Any], overrides: dict[str, Any]) -> Preferences:
    try:
        return effective_preferences(defaults, overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "preferences"
        raise invalid_field(field, first["msg"].removeprefix("Value error, ")) from None
