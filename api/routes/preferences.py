"""Preferences: a recipient's own (GET/PUT/PATCH) and the tenant's defaults (GET/PUT)."""

from typing import Any

from fastapi import APIRouter, Body

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from domain.preferences import Preferences
from services import preferences

router = APIRouter(tags=["preferences"])


@router.get("/v1/recipients/{external_id}/preferences", response_model=Preferences)
async def get_preferences(external_id: str, tenant: TenantDep, session: SessionDep) -> Preferences:
    """The effective preferences: the tenant's defaults overlaid with the recipient's changes."""
    return await preferences.get_preferences(session, tenant, external_id)


@router.put("/v1/recipients/{external_id}/preferences", response_model=Preferences)
async def put_preferences(
    external_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: dict[str, Any] = Body(),
) -> Preferences:
    """Replace the recipient's changes; fields left out follow the tenant's defaults.
    Notifications waiting for this recipient decide again at once, and an organizer's
    agenda Schedule follows a changed agenda time, weekend choice or timezone."""
    return await preferences.replace_preferences(
        session, temporal, settings, tenant, external_id, body
    )


@router.patch("/v1/recipients/{external_id}/preferences", response_model=Preferences)
async def patch_preferences(
    external_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: dict[str, Any] = Body(),
) -> Preferences:
    """Change some fields (a JSON merge patch); the others keep their values."""
    return await preferences.patch_preferences(
        session, temporal, settings, tenant, external_id, body
    )


@router.get("/v1/preferences/defaults", response_model=Preferences)
async def get_preference_defaults(tenant: TenantDep, session: SessionDep) -> Preferences:
    return await preferences.get_defaults(session, tenant)


@router.put("/v1/preferences/defaults", response_model=Preferences)
async def put_preference_defaults(
    tenant: TenantDep, session: SessionDep, body: dict[str, Any] = Body()
) -> Preferences:
    return await preferences.put_defaults(session, tenant, body)
