"""/v1/api-keys: a tenant's key manages that tenant's keys (services/api_keys.py)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ApiKeyCacheDep, SessionDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.api_keys import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeyRotate,
    ApiKeyRotation,
    ApiKeysPublic,
)
from services import api_keys

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


@router.get("", response_model=ApiKeysPublic)
async def list_api_keys(
    tenant: TenantDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> ApiKeysPublic:
    """The tenant's keys, oldest first, revoked ones included: name, prefix and dates, never
    the key."""
    return await api_keys.list_keys(session, tenant, cursor, limit)


@router.post("", response_model=ApiKeyCreated, status_code=201)
async def create_api_key(
    tenant: TenantDep, session: SessionDep, body: ApiKeyCreate | None = None
) -> ApiKeyCreated:
    """A new key for the tenant. The response is the only time the key is shown."""
    return await api_keys.create_key(session, tenant, (body or ApiKeyCreate()).name)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyPublic,
    responses={
        409: {
            "description": "The key is the tenant's last active key (`last_api_key`): "
            "revoke it with force=true, or create another first."
        }
    },
)
async def revoke_api_key(
    key_id: uuid.UUID,
    tenant: TenantDep,
    session: SessionDep,
    cache: ApiKeyCacheDep,
    force: Annotated[
        bool, Query(description="Revoke even the tenant's last active key (409 without it).")
    ] = False,
) -> ApiKeyPublic:
    """Revoke a key: at once on this process, within API_KEY_CACHE_SECONDS on the others."""
    return await api_keys.revoke_key(session, cache, tenant, key_id, force)


@router.post(
    "/{key_id}/rotate",
    response_model=ApiKeyRotation,
    status_code=201,
    responses={409: {"description": "The key is already revoked or rotated (`api_key_revoked`)."}},
)
async def rotate_api_key(
    key_id: uuid.UUID,
    tenant: TenantDep,
    session: SessionDep,
    cache: ApiKeyCacheDep,
    body: ApiKeyRotate | None = None,
) -> ApiKeyRotation:
    """A new key of the same name (shown once); the old one is revoked, at once or after
    `grace_seconds`."""
    grace = (body or ApiKeyRotate()).grace_seconds
    return await api_keys.rotate_key(session, cache, tenant, key_id, grace)
