"""GET/PUT /v1/settings/email: who the tenant's emails come from."""

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep, TenantDep
from api.schemas.email_settings import EmailSettings
from services import email_settings as service

router = APIRouter(prefix="/v1/settings/email", tags=["settings"])


@router.get("", response_model=EmailSettings)
async def get_email_settings(tenant: TenantDep, session: SessionDep) -> EmailSettings:
    """The tenant's From name, From address and Reply-To; null: Herald's default."""
    return await service.email_settings(session, tenant)


@router.put("", response_model=EmailSettings)
async def put_email_settings(
    body: EmailSettings, tenant: TenantDep, session: SessionDep, settings: SettingsDep
) -> EmailSettings:
    """Replaces all three. The From address must be on one of ALLOWED_FROM_DOMAINS."""
    return await service.save_email_settings(session, tenant, body, settings.from_domains)
