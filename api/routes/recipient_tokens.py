"""POST /v1/recipients/{external_id}/token: a tenant's backend gets a recipient's inbox token."""

from typing import Any

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep, TenantDep
from api.schemas.recipient_tokens import RecipientToken, RecipientTokenRequest
from services import inbox_auth

router = APIRouter(prefix="/v1/recipients", tags=["inbox"])

# Signing secrets are sealed under a key derived from SECRET_KEY (services/inbox_secrets.py).
NO_SECRET_KEY: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "SECRET_KEY is not set, or is not the one the secrets were sealed with "
        "(`unavailable`)."
    }
}


@router.post(
    "/{external_id}/token", response_model=RecipientToken, status_code=201, responses=NO_SECRET_KEY
)
async def create_recipient_token(
    external_id: str,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    body: RecipientTokenRequest | None = None,
) -> RecipientToken:
    """A short-lived token for one recipient's inbox (/v1/inbox routes, the widget), signed with
    the tenant's newest inbox signing secret. Give it to that recipient's browser: never the
    API key. 404 if the recipient does not exist."""
    ttl = body.ttl_seconds if body is not None else None
    return await inbox_auth.issue_token(session, settings, tenant, external_id, ttl)
