"""Preferences: a recipient's own (GET/PUT/PATCH) and the tenant's defaults (GET/PUT).

A recipient's own settings are the changes they made to the tenant's defaults: a partial
preferences document whose validity depends on those defaults, so it is taken as a JSON
object and validated once merged (services/preferences.py). The defaults are a whole
preferences document and are typed as one."""

from typing import Annotated, Any

from fastapi import APIRouter, Body

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.schemas.merge_patch import merge_patch_body
from api.schemas.preferences import RecipientPreferences
from domain.preferences import Preferences
from services import preferences

router = APIRouter(tags=["preferences"])

OwnSettings = Annotated[
    dict[str, Any],
    Body(
        description="Any fields of the preferences document (nested objects may be partial); "
        "a field left out follows the tenant's default.",
        openapi_examples={
            "quiet hours": {"value": {"dnd": {"enabled": True, "start": "21:00"}}},
            "opt out": {"value": {"rules": {"marketing": {"email": False}}}},
        },
    ),
]
OwnSettingsPatch = Annotated[
    dict[str, Any],
    merge_patch_body(
        "the recipient's own settings",
        "it follows the tenant's default again",
        {
            "resubscribe": {"rules": {"booking": {"email": True}}},
            "back to the default": {"dnd": None, "timezone": None},
        },
    ),
]


@router.get("/v1/recipients/{external_id}/preferences", response_model=RecipientPreferences)
async def get_preferences(
    external_id: str, tenant: TenantDep, session: SessionDep
) -> RecipientPreferences:
    """The effective preferences: the tenant's defaults overlaid with the recipient's changes."""
    return await preferences.get_preferences(session, tenant, external_id)


@router.put("/v1/recipients/{external_id}/preferences", response_model=RecipientPreferences)
async def put_preferences(
    external_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: OwnSettings,
) -> RecipientPreferences:
    """Replace the recipient's changes; fields left out follow the tenant's defaults.
    Notifications waiting for this recipient decide again at once, and an organizer's
    agenda Schedule follows a changed agenda time, weekend choice or timezone."""
    return await preferences.replace_preferences(
        session, temporal, settings, tenant, external_id, body
    )


@router.patch("/v1/recipients/{external_id}/preferences", response_model=RecipientPreferences)
async def patch_preferences(
    external_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: OwnSettingsPatch,
) -> RecipientPreferences:
    """Change some of the recipient's settings (RFC 7396 merge patch); the others keep their
    values. The result is validated whole: invalid, it is a 422 naming the field, and nothing
    is written."""
    return await preferences.patch_preferences(
        session, temporal, settings, tenant, external_id, body
    )


@router.get("/v1/preferences/defaults", response_model=Preferences)
async def get_preference_defaults(tenant: TenantDep, session: SessionDep) -> Preferences:
    return await preferences.get_defaults(session, tenant)


@router.put("/v1/preferences/defaults", response_model=Preferences)
async def put_preference_defaults(
    tenant: TenantDep, session: SessionDep, body: Preferences
) -> Preferences:
    """Replace the tenant's defaults; a field left out takes Herald's. Refused (422, naming
    the field and up to 10 recipients) when they would make some recipient's own settings
    invalid once merged."""
    return await preferences.put_defaults(
        session, tenant, body.model_dump(mode="json", exclude_unset=True)
    )
