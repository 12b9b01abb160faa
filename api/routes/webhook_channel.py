"""/v1/settings/webhook-channel: where the tenant's notifications on channel `webhook` are
POSTed, and the secret they are signed with (services/webhook_channel.py)."""

from typing import Any

from fastapi import APIRouter, Response

from api.deps import SessionDep, SettingsDep, TenantDep
from api.routes.recipient_tokens import NO_SECRET_KEY
from api.schemas.webhook_channel import (
    WebhookChannelPublic,
    WebhookChannelPut,
    WebhookChannelSaved,
)
from services import webhook_channel as service

router = APIRouter(prefix="/v1/settings/webhook-channel", tags=["settings"])

NO_CHANNEL: dict[int | str, dict[str, Any]] = {
    404: {"description": "The tenant has no webhook channel (`not_found`): PUT one."}
}


@router.get("", response_model=WebhookChannelPublic, responses=NO_CHANNEL)
async def get_webhook_channel(
    tenant: TenantDep, session: SessionDep, settings: SettingsDep
) -> WebhookChannelPublic:
    """The channel's URL, whether it is on, and a hint of its signing secret (never the secret)."""
    return await service.webhook_channel(session, settings, tenant)


@router.put(
    "",
    response_model=WebhookChannelSaved,
    responses={
        201: {
            "model": WebhookChannelSaved,
            "description": "The channel was created; `secret`, its signing secret, is shown "
            "this once.",
        },
        409: {"description": "The channel was deleted while this PUT changed it: PUT again."},
        **NO_SECRET_KEY,
    },
)
async def put_webhook_channel(
    body: WebhookChannelPut,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> WebhookChannelSaved:
    """Set the channel's URL and whether it is on. The first PUT creates the channel and its
    signing secret (201, the secret in the answer, and never again); a later one keeps the
    secret. A URL that is not https, or whose host resolves to a private, loopback or
    link-local address, is refused (422 naming `url`)."""
    saved, created = await service.put_webhook_channel(session, settings, tenant, body)
    if created:
        response.status_code = 201
    return saved


@router.post(
    "/rotate-secret",
    response_model=WebhookChannelSaved,
    responses={**NO_CHANNEL, **NO_SECRET_KEY},
)
async def rotate_webhook_channel_secret(
    tenant: TenantDep, session: SessionDep, settings: SettingsDep
) -> WebhookChannelSaved:
    """A new signing secret, shown in this answer only. It replaces the old one at once: the
    next send is signed with the new secret alone, so a receiver should accept both while it
    switches."""
    return await service.rotate_webhook_secret(session, settings, tenant)


@router.delete("", status_code=204)
async def delete_webhook_channel(tenant: TenantDep, session: SessionDep) -> Response:
    """Remove the channel (none is no error): notifications on channel `webhook` are then
    suppressed (`no_address`)."""
    await service.delete_webhook_channel(session, tenant)
    return Response(status_code=204)
