"""A tenant's status webhook endpoints (/v1/webhook-endpoints): created, listed, changed,
deleted, their signing secret rotated; and the messages sent to each, with every attempt.

- A URL is checked as the webhook channel's (services/webhook_receivers.py): 422 naming `url`,
  nothing written. A tenant has at most MAX_ENDPOINTS endpoints.
- The signing secret is made with the endpoint and shown in that answer only, and in
  rotate-secret's; at rest it is sealed (services/inbox_secrets.SecretBox, kid
  "webhook-endpoint:<id>"). After a rotation the previous one also signs for a day
  (db.webhook_channels.ROTATION_OVERLAP): `open_secrets` gives a send both.
- Another tenant's endpoint or message is not found (404), never forbidden.
"""

import uuid
from datetime import datetime

from sqlalchemy import case
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.webhook_endpoints import (
    MessageStatus,
    WebhookAttemptPublic,
    WebhookEndpointCreate,
    WebhookEndpointPage,
    WebhookEndpointPatch,
    WebhookEndpointPublic,
    WebhookEndpointWithSecret,
    WebhookMessagePage,
    WebhookMessagePublic,
    WebhookMessageSummary,
)
from config.settings import Settings
from db import webhook_endpoints as store
from db.integration_models import WebhookEndpoint, WebhookMessage
from domain import standard_webhooks
from domain.tenants import TenantIdentity
from services.errors import Invalid, NotFound
from services.inbox_secrets import secret_box
from services.pages import decode_cursor, page
from services.webhook_receivers import check_url, secret_hint

MAX_ENDPOINTS = 20  # per tenant
DISABLED_BY_TENANT = "disabled by the tenant"


def secret_kid(endpoint_id: uuid.UUID) -> str:
    """The associated data an endpoint's secrets are sealed with (SecretBox)."""
    return f"webhook-endpoint:{endpoint_id}"


def open_secrets(settings: Settings, target: store.SigningTarget) -> list[str]:
    """The secrets that sign a message to the endpoint: its own, then the previous one while
    a rotation's overlap lasts. Unavailable when one does not open (SECRET_KEY changed)."""
    box = secret_box(settings)
    sealed = [target.secret_sealed, target.previous_secret_sealed]
    kid = secret_kid(target.id)
    return [box.open(target.tenant_id, kid, secret) for secret in sealed if secret]


async def create_endpoint(
    session: AsyncSession, settings: Settings, tenant: TenantIdentity, body: WebhookEndpointCreate
) -> WebhookEndpointWithSecret:
    """The new endpoint and its signing secret (shown this once)."""
    await check_url(body.url, settings.webhook_allow_private_addresses)
    endpoint_id = uuid.uuid4()
    secret = standard_webhooks.new_secret()
    sealed = secret_box(settings).seal(tenant.id, secret_kid(endpoint_id), secret)
    async with session.begin():
        await store.lock_tenant_endpoints(session, tenant.id)
        if await store.count_endpoints(session, tenant.id) >= MAX_ENDPOINTS:
            raise Invalid(f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints: delete one")
        row = await store.add_endpoint(
            session,
            WebhookEndpoint(
                id=endpoint_id,
                tenant_id=tenant.id,
                url=body.url,
                description=body.description,
                event_types=[str(t) for t in body.event_types],
                enabled=body.enabled,
                disabled_reason=None if body.enabled else DISABLED_BY_TENANT,
                secret_sealed=sealed,
            ),
        )
        shown = _public(settings, row)
    return WebhookEndpointWithSecret(**shown.model_dump(), secret=secret)


async def list_endpoints(
    session: AsyncSession,
    settings: Settings,
    tenant: TenantIdentity,
    cursor: str | None,
    limit: int,
) -> WebhookEndpointPage:
    """The tenant's endpoints, newest first."""
    after = decode_cursor(cursor, datetime, uuid.UUID)
    rows = await store.tenant_endpoints(session, tenant.id, after, limit + 1)
    shown, next_cursor = page(rows, limit, lambda row: (row.created_at, row.id))
    return WebhookEndpointPage(
        data=[_public(settings, row) for row in shown], next_cursor=next_cursor
    )


async def read_endpoint(
    session: AsyncSession, settings: Settings, tenant: TenantIdentity, endpoint_id: uuid.UUID
) -> WebhookEndpointPublic:
    return _public(settings, await _endpoint(session, tenant, endpoint_id))


async def change_endpoint(
    session: AsyncSession,
    settings: Settings,
    tenant: TenantIdentity,
    endpoint_id: uuid.UUID,
    body: WebhookEndpointPatch,
) -> WebhookEndpointPublic:
    """Change what the body gives. Turning it off records that the tenant did (unless Herald
    had already, whose reason stays); turning a disabled one on clears the reason and its
    failing streak, so a new streak starts from its next failure."""
    if body.url is not None:
        await check_url(body.url, settings.webhook_allow_private_addresses)
    given = body.model_dump(mode="json", include=body.model_fields_set)
    values: dict[str, object] = {k: v for k, v in given.items() if k != "enabled"}
    if body.enabled is not None:
        was_on = WebhookEndpoint.enabled
        values["enabled"] = body.enabled
        if body.enabled:
            values["disabled_reason"] = None
            values["failing_since"] = case((was_on, WebhookEndpoint.failing_since), else_=None)
        else:
            values["disabled_reason"] = case(
                (was_on, DISABLED_BY_TENANT), else_=WebhookEndpoint.disabled_reason
            )
    if not values:
        return await read_endpoint(session, settings, tenant, endpoint_id)
    async with session.begin():
        row = await store.change_endpoint(session, tenant.id, endpoint_id, **values)
        if row is None:
            raise _not_found(endpoint_id)
        return _public(settings, row)


async def rotate_secret(
    session: AsyncSession, settings: Settings, tenant: TenantIdentity, endpoint_id: uuid.UUID
) -> WebhookEndpointWithSecret:
    """A new signing secret, shown in this answer only; the previous one also signs for a
    day, so a receiver switches over without a gap."""
    secret = standard_webhooks.new_secret()
    sealed = secret_box(settings).seal(tenant.id, secret_kid(endpoint_id), secret)
    async with session.begin():
        row = await store.rotate_secret(session, tenant.id, endpoint_id, sealed)
        if row is None:
            raise _not_found(endpoint_id)
        shown = _public(settings, row)
    return WebhookEndpointWithSecret(**shown.model_dump(), secret=secret)


async def delete_endpoint(
    session: AsyncSession, tenant: TenantIdentity, endpoint_id: uuid.UUID
) -> None:
    """Delete the endpoint, its messages and their attempts; nothing more is sent to it."""
    async with session.begin():
        if not await store.delete_endpoint(session, tenant.id, endpoint_id):
            raise _not_found(endpoint_id)


async def list_messages(
    session: AsyncSession,
    tenant: TenantIdentity,
    endpoint_id: uuid.UUID,
    status: MessageStatus | None,
    cursor: str | None,
    limit: int,
) -> WebhookMessagePage:
    """The endpoint's messages, newest first; only those in `status` when it is given."""
    after = decode_cursor(cursor, datetime, uuid.UUID)
    await _endpoint(session, tenant, endpoint_id)
    rows = await store.endpoint_messages(session, endpoint_id, status, after, limit + 1)
    shown, next_cursor = page(rows, limit, lambda row: (row.created_at, row.id))
    return WebhookMessagePage(data=[_summary(row) for row in shown], next_cursor=next_cursor)


async def read_message(
    session: AsyncSession, tenant: TenantIdentity, endpoint_id: uuid.UUID, message_id: uuid.UUID
) -> WebhookMessagePublic:
    """The message as it was sent, and every attempt, oldest first."""
    message = await store.endpoint_message(session, tenant.id, endpoint_id, message_id)
    if message is None:
        raise NotFound(f"message {message_id} not found for webhook endpoint {endpoint_id}")
    attempts = await store.message_attempts(session, message_id)
    return WebhookMessagePublic(
        **_summary(message).model_dump(),
        payload=message.payload,
        attempts=[
            WebhookAttemptPublic(
                attempted_at=attempt.attempted_at,
                status_code=attempt.status_code,
                response_body=attempt.response_body,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
            for attempt in attempts
        ],
    )


async def _endpoint(
    session: AsyncSession, tenant: TenantIdentity, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    row = await store.tenant_endpoint(session, tenant.id, endpoint_id)
    if row is None:
        raise _not_found(endpoint_id)
    return row


def _not_found(endpoint_id: uuid.UUID) -> NotFound:
    return NotFound(f"webhook endpoint {endpoint_id} not found")


def _summary(row: store.MessageSummary | WebhookMessage) -> WebhookMessageSummary:
    return WebhookMessageSummary(
        id=row.id,
        event_type=row.event_type,
        subject_id=row.subject_id,
        status=row.status,
        attempt_count=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def _public(settings: Settings, row: WebhookEndpoint) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=list(row.event_types),
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        failing_since=row.failing_since,
        secret_hint=secret_hint(settings, row.tenant_id, secret_kid(row.id), row.secret_sealed),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
