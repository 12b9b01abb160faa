"""/v1/webhook-endpoints: the tenant's receivers of status events (delivery.sent,
delivery.failed...), their signing secrets, and the messages sent to each with every attempt
(services/webhook_endpoints.py)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep, SettingsDep, TenantDep
from api.paging import Cursor, Limit
from api.routes.recipient_tokens import NO_SECRET_KEY
from api.schemas.webhook_endpoints import (
    MessageStatus,
    WebhookEndpointCreate,
    WebhookEndpointPage,
    WebhookEndpointPatch,
    WebhookEndpointPublic,
    WebhookEndpointWithSecret,
    WebhookMessagePage,
    WebhookMessagePublic,
)
from services import webhook_endpoints as service

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhook endpoints"])


@router.post("", response_model=WebhookEndpointWithSecret, status_code=201, responses=NO_SECRET_KEY)
async def create_webhook_endpoint(
    body: WebhookEndpointCreate, tenant: TenantDep, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointWithSecret:
    """Register an endpoint. The answer carries its signing secret (`secret`), this once and
    never again. A URL that is not https, or whose host resolves to a private, loopback or
    link-local address, is refused (422 naming `url`); so is an endpoint beyond
    the tenant's 20th."""
    return await service.create_endpoint(session, settings, tenant, body)


@router.get("", response_model=WebhookEndpointPage)
async def list_webhook_endpoints(
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> WebhookEndpointPage:
    """The tenant's endpoints, newest first, each with a hint of its secret (never the secret)."""
    return await service.list_endpoints(session, settings, tenant, cursor, limit)


@router.get("/{endpoint_id}", response_model=WebhookEndpointPublic)
async def get_webhook_endpoint(
    endpoint_id: uuid.UUID, tenant: TenantDep, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointPublic:
    return await service.read_endpoint(session, settings, tenant, endpoint_id)


@router.patch("/{endpoint_id}", response_model=WebhookEndpointPublic)
async def update_webhook_endpoint(
    endpoint_id: uuid.UUID,
    body: WebhookEndpointPatch,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookEndpointPublic:
    """Change the URL, description, event types, or turn the endpoint off or on
    (`{"enabled": false}`); a field left out keeps its value. Turning a disabled endpoint on
    clears why it was disabled (by the tenant, or by Herald after failing too long)."""
    return await service.change_endpoint(session, settings, tenant, endpoint_id, body)


@router.delete("/{endpoint_id}", status_code=204)
async def delete_webhook_endpoint(
    endpoint_id: uuid.UUID, tenant: TenantDep, session: SessionDep
) -> Response:
    """Delete the endpoint, with its messages and their attempts: nothing more is sent to it."""
    await service.delete_endpoint(session, tenant, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=WebhookEndpointWithSecret,
    responses=NO_SECRET_KEY,
)
async def rotate_webhook_endpoint_secret(
    endpoint_id: uuid.UUID, tenant: TenantDep, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointWithSecret:
    """A new signing secret, shown in this answer only. For a day the previous one signs too
    (each message carries both signatures), so a receiver can switch at its own pace."""
    return await service.rotate_secret(session, settings, tenant, endpoint_id)


@router.get("/{endpoint_id}/messages", response_model=WebhookMessagePage)
async def list_webhook_messages(
    endpoint_id: uuid.UUID,
    tenant: TenantDep,
    session: SessionDep,
    status: Annotated[
        MessageStatus | None, Query(description="Only the messages in this status.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> WebhookMessagePage:
    """The events sent (or being sent) to the endpoint, newest first, with their status and
    how many attempts each took."""
    return await service.list_messages(session, tenant, endpoint_id, status, cursor, limit)


@router.get("/{endpoint_id}/messages/{message_id}", response_model=WebhookMessagePublic)
async def get_webhook_message(
    endpoint_id: uuid.UUID, message_id: uuid.UUID, tenant: TenantDep, session: SessionDep
) -> WebhookMessagePublic:
    """The message as it was sent (its id is the `webhook-id` header), with every attempt,
    oldest first: when, the receiver's status code and the start of its answer, or the error,
    and how long it took."""
    return await service.read_message(session, tenant, endpoint_id, message_id)
