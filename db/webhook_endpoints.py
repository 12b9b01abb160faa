"""Tenants' status webhook endpoints (/v1/webhook-endpoints), and the read side of the messages
sent to them and of each attempt (written by the delivery: the outbox and its workflows)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.integration_models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from db.webhook_channels import ROTATION_OVERLAP


@dataclass(frozen=True)
class SigningTarget:
    """What sending to an endpoint needs: where, whether it is on, and its secrets, sealed
    (the previous one only while a rotation's overlap lasts). The tenant and id make the
    secrets' kid (services.webhook_endpoints.open_secrets opens them)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    url: str
    enabled: bool
    secret_sealed: str
    previous_secret_sealed: str | None


async def signing_target(session: AsyncSession, endpoint_id: uuid.UUID) -> SigningTarget | None:
    """The endpoint as a send reads it; None once it is deleted."""
    still_signing = WebhookEndpoint.previous_secret_expires_at > func.now()
    row = (
        await session.execute(
            select(
                WebhookEndpoint.id,
                WebhookEndpoint.tenant_id,
                WebhookEndpoint.url,
                WebhookEndpoint.enabled,
                WebhookEndpoint.secret_sealed,
                case((still_signing, WebhookEndpoint.previous_secret_sealed)).label("previous"),
            ).where(WebhookEndpoint.id == endpoint_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return SigningTarget(
        row.id, row.tenant_id, row.url, row.enabled, row.secret_sealed, row.previous
    )


async def lock_tenant_endpoints(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Until the transaction ends, no other transaction adds an endpoint for this tenant: two
    creations at once cannot both pass the cap on the count."""
    lock_id = func.hashtextextended(f"webhook-endpoints:{tenant_id}", 0)
    await session.execute(select(func.pg_advisory_xact_lock(lock_id)))


async def count_endpoints(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    statement = select(func.count()).where(WebhookEndpoint.tenant_id == tenant_id)
    return (await session.scalar(statement)) or 0


async def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """The endpoint stored, with its times from the database's clock."""
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    return endpoint


async def tenant_endpoint(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint | None:
    """The tenant's endpoint; None for another tenant's."""
    return await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id
        )
    )


async def tenant_endpoints(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[WebhookEndpoint]:
    """The tenant's endpoints, newest first, from after `after` (created_at, id)."""
    conditions = [WebhookEndpoint.tenant_id == tenant_id]
    if after is not None:
        conditions.append(tuple_(WebhookEndpoint.created_at, WebhookEndpoint.id) < tuple_(*after))
    statement = (
        select(WebhookEndpoint)
        .where(*conditions)
        .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def change_endpoint(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, **values: object
) -> WebhookEndpoint | None:
    """Set `values` on the tenant's endpoint; None if it has no such endpoint."""
    return (
        await session.scalars(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
            .values(**values, updated_at=func.now())
            .returning(WebhookEndpoint),
            execution_options={"synchronize_session": False},
        )
    ).one_or_none()


async def rotate_secret(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, secret_sealed: str
) -> WebhookEndpoint | None:
    """The new secret signs from now on; the one it replaces also signs for ROTATION_OVERLAP
    (as the webhook channel's). None if the tenant has no such endpoint."""
    return await change_endpoint(
        session,
        tenant_id,
        endpoint_id,
        previous_secret_sealed=WebhookEndpoint.secret_sealed,
        previous_secret_expires_at=func.now() + ROTATION_OVERLAP,
        secret_sealed=secret_sealed,
    )


async def delete_endpoint(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> bool:
    """Whether the tenant had the endpoint (its messages and attempts go with it)."""
    deleted = await session.execute(
        delete(WebhookEndpoint)
        .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
        .returning(WebhookEndpoint.id)
    )
    return deleted.one_or_none() is not None


@dataclass(frozen=True)
class MessageSummary:
    """A message as the list shows it (without its payload)."""

    id: uuid.UUID
    event_type: str
    subject_id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


async def endpoint_messages(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[MessageSummary]:
    """The endpoint's messages, newest first, from after `after` (created_at, id); only those
    in `status` when it is given. The caller has checked the endpoint is the tenant's."""
    conditions = [WebhookMessage.endpoint_id == endpoint_id]
    if status is not None:
        conditions.append(WebhookMessage.status == status)
    if after is not None:
        conditions.append(tuple_(WebhookMessage.created_at, WebhookMessage.id) < tuple_(*after))
    rows = await session.execute(
        select(
            WebhookMessage.id,
            WebhookMessage.event_type,
            WebhookMessage.subject_id,
            WebhookMessage.status,
            WebhookMessage.attempts,
            WebhookMessage.next_attempt_at,
            WebhookMessage.created_at,
            WebhookMessage.delivered_at,
        )
        .where(*conditions)
        .order_by(WebhookMessage.created_at.desc(), WebhookMessage.id.desc())
        .limit(limit)
    )
    return [MessageSummary(**row._mapping) for row in rows]


async def endpoint_message(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, message_id: uuid.UUID
) -> WebhookMessage | None:
    """The message, if it is this tenant's endpoint's."""
    return await session.scalar(
        select(WebhookMessage).where(
            WebhookMessage.tenant_id == tenant_id,
            WebhookMessage.endpoint_id == endpoint_id,
            WebhookMessage.id == message_id,
        )
    )


async def message_attempts(session: AsyncSession, message_id: uuid.UUID) -> list[WebhookAttempt]:
    """Every attempt of the message, oldest first."""
    statement = (
        select(WebhookAttempt)
        .where(WebhookAttempt.message_id == message_id)
        .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
    )
    return list((await session.scalars(statement)).all())
