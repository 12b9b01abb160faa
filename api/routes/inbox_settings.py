"""/v1/settings/inbox: the tenant's inbox settings and its signing secrets for recipient tokens
(services/inbox_settings.py, services/inbox_secrets.py)."""

from fastapi import APIRouter

from api.deps import InboxAuthCacheDep, SessionDep, SettingsDep, TenantDep
from api.paging import Cursor, Limit
from api.routes.recipient_tokens import NO_SECRET_KEY
from api.schemas.inbox_settings import (
    InboxSettingsPatch,
    InboxSettingsPublic,
    SigningSecretCreate,
    SigningSecretCreated,
    SigningSecretPublic,
    SigningSecretsPublic,
)
from services import inbox_secrets, inbox_settings

router = APIRouter(prefix="/v1/settings/inbox", tags=["settings", "inbox"])


@router.get("", response_model=InboxSettingsPublic)
async def get_inbox_settings(tenant: TenantDep, session: SessionDep) -> InboxSettingsPublic:
    return await inbox_settings.inbox_settings(session, tenant)


@router.patch("", response_model=InboxSettingsPublic)
async def patch_inbox_settings(
    body: InboxSettingsPatch, tenant: TenantDep, session: SessionDep, cache: InboxAuthCacheDep
) -> InboxSettingsPublic:
    """Change the fields given. Other API processes apply it within API_KEY_CACHE_SECONDS."""
    return await inbox_settings.patch_inbox_settings(session, cache, tenant, body)


@router.post(
    "/signing-secrets",
    response_model=SigningSecretCreated,
    status_code=201,
    responses=NO_SECRET_KEY,
)
async def create_signing_secret(
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    cache: InboxAuthCacheDep,
    body: SigningSecretCreate | None = None,
) -> SigningSecretCreated:
    """A new signing secret, shown this once: Herald signs its tokens with it from now on, and a
    backend may sign its own. The previous newest stays valid `overlap_seconds` more."""
    overlap = (body or SigningSecretCreate()).overlap_seconds
    return await inbox_secrets.rotate_secret(session, settings, cache, tenant, overlap)


@router.get("/signing-secrets", response_model=SigningSecretsPublic)
async def list_signing_secrets(
    tenant: TenantDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> SigningSecretsPublic:
    """The tenant's secrets, newest first, expired and revoked ones included: never a secret."""
    return await inbox_secrets.list_secrets(session, tenant, cursor, limit)


@router.delete("/signing-secrets/{kid}", response_model=SigningSecretPublic)
async def revoke_signing_secret(
    kid: str, tenant: TenantDep, session: SessionDep, cache: InboxAuthCacheDep
) -> SigningSecretPublic:
    """Revoke a secret: the tokens it signed stop working at once on this process, within
    API_KEY_CACHE_SECONDS on the others."""
    return await inbox_secrets.revoke_secret(session, cache, tenant, kid)
