"""Preferences: a recipient's own (GET/PUT/PATCH) and the tenant's defaults (GET/PUT)."""

from typing import Any

from fastapi import APIRouter, Body
from pydantic import ValidationError
from sqlalchemy import select, update

from api.agenda_schedules import AGENDA_PREFERENCES, follow_preferences
from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.errors import ApiError, field_error
from temporal_clients.notifications import notify_preferences_changed
from db.models import Notification, Recipient, Tenant
from db.recipients import get_recipient
from domain.preferences import Preferences, effective_preferences, merge_overrides

router = APIRouter(tags=["preferences"])


def _validated(defaults: dict[str, Any], overrides: dict[str, Any]) -> Preferences:
    try:
        return effective_preferences(defaults, overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "preferences"
        raise field_error(field, first["msg"].removeprefix("Value error, ")) from None


async def _tenant_defaults(session, tenant_id) -> dict[str, Any]:
    return await session.scalar(select(Tenant.preference_defaults).where(Tenant.id == tenant_id)) or {}


async def _recipient(session, tenant_id, external_id: str) -> Recipient:
    recipient = await get_recipient(session, tenant_id, external_id)
    if recipient is None:
        raise ApiError(404, "not_found", f"recipient {external_id!r} not found")
    return recipient


@router.get("/v1/recipients/{external_id}/preferences", response_model=Preferences)
async def get_preferences(external_id: str, tenant: TenantDep, session: SessionDep) -> Preferences:
    """The effective preferences: the tenant's defaults overlaid with the recipient's changes."""
    recipient = await _recipient(session, tenant.id, external_id)
    return _validated(await _tenant_defaults(session, tenant.id), recipient.preference_overrides)


async def _store(session, temporal, settings, tenant, external_id: str, overrides) -> Preferences:
    async with session.begin():
        recipient = await _recipient(session, tenant.id, external_id)
        defaults = await _tenant_defaults(session, tenant.id)
        before = _validated(defaults, recipient.preference_overrides)
        new_overrides = overrides(recipient.preference_overrides) if callable(overrides) else overrides
        effective = _validated(defaults, new_overrides)
        await session.execute(
            update(Recipient).where(Recipient.id == recipient.id).values(preference_overrides=new_overrides)
        )
        waiting = await session.scalars(
            select(Notification.workflow_id).where(
                Notification.tenant_id == tenant.id,
                Notification.recipient_id == recipient.id,
                Notification.status.in_(("scheduled", "deferred")),
            )
        )
        waiting = list(waiting)
    await notify_preferences_changed(temporal, waiting)
    if any(getattr(before, name) != getattr(effective, name) for name in AGENDA_PREFERENCES):
        await follow_preferences(session, temporal, settings, tenant, external_id)
    return effective


@router.put("/v1/recipients/{external_id}/preferences", response_model=Preferences)
async def put_preferences(
    external_id: str, tenant: TenantDep, session: SessionDep, temporal: TemporalDep, settings: SettingsDep,
    body: dict[str, Any] = Body(),
) -> Preferences:
    """Replace the recipient's changes; fields left out follow the tenant's defaults.
    Notifications waiting for this recipient decide again at once, and an organizer's
    agenda Schedule follows a changed agenda time, weekend choice or timezone."""
    return await _store(session, temporal, settings, tenant, external_id, body)


@router.patch("/v1/recipients/{external_id}/preferences", response_model=Preferences)
async def patch_preferences(
    external_id: str, tenant: TenantDep, session: SessionDep, temporal: TemporalDep, settings: SettingsDep,
    body: dict[str, Any] = Body(),
) -> Preferences:
    """Change some fields (a JSON merge patch); the others keep their values."""
    return await _store(
        session, temporal, settings, tenant, external_id, lambda current: merge_overrides(current, body)
    )


@router.get("/v1/preferences/defaults", response_model=Preferences)
async def get_defaults(tenant: TenantDep, session: SessionDep) -> Preferences:
    return _validated(await _tenant_defaults(session, tenant.id), {})


@router.put("/v1/preferences/defaults", response_model=Preferences)
async def put_defaults(tenant: TenantDep, session: SessionDep, body: dict[str, Any] = Body()) -> Preferences:
    effective = _validated(body, {})
    async with session.begin():
        await session.execute(update(Tenant).where(Tenant.id == tenant.id).values(preference_defaults=body))
    return effective
