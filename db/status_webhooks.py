"""The SQL of status webhook delivery: the outbox claimed into messages, a message's attempts
recorded, its endpoint judged, a message reopened for a replay, the sweep's overdue messages.
(The subjects' state: db/status_webhook_subjects.py; the endpoints: db/webhook_endpoints.py.)"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.integration_models import WebhookAttempt, WebhookEndpoint, WebhookMessage, WebhookOutbox

# What migration 0023's triggers notify when they write an outbox row: the dispatcher listens.
OUTBOX_CHANNEL = "herald_webhook_outbox"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    tenant_id: uuid.UUID
    event_type: str
    subject_id: uuid.UUID


@dataclass(frozen=True)
class Subscriber:
    id: uuid.UUID
    tenant_id: uuid.UUID
    event_types: list[str]


@dataclass(frozen=True)
class PendingMessage:
    """A message whose workflow is to run (started now, or found missing by the sweep)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    workflow_id: str


async def claim_outbox(session: AsyncSession, limit: int) -> list[OutboxEvent]:
    """Take (delete) up to `limit` events, oldest first, skipping those another dispatcher holds;
    in the caller's transaction, which writes their messages before it commits."""
    held = select(WebhookOutbox.id).order_by(WebhookOutbox.id).limit(limit)
    rows = await session.execute(
        delete(WebhookOutbox)
        .where(WebhookOutbox.id.in_(held.with_for_update(skip_locked=True).scalar_subquery()))
        .returning(
            WebhookOutbox.id,
            WebhookOutbox.tenant_id,
            WebhookOutbox.event_type,
            WebhookOutbox.subject_id,
        )
    )
    return sorted((OutboxEvent(**row._mapping) for row in rows), key=lambda e: e.id)


async def enabled_endpoints(session: AsyncSession, tenant_ids: set[uuid.UUID]) -> list[Subscriber]:
    rows = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.tenant_id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.tenant_id.in_(tenant_ids), WebhookEndpoint.enabled
        )
    )
    return [Subscriber(**row._mapping) for row in rows]


async def add_messages(
    session: AsyncSession, messages: list[dict[str, Any]]
) -> list[PendingMessage]:
    """Insert pending messages (id, tenant_id, endpoint_id, event_type, subject_id,
    workflow_id); those already there are left as they are and not returned."""
    if not messages:
        return []
    rows = await session.execute(
        insert(WebhookMessage)
        # Nothing sent yet; the first attempt is due at once.
        .values(
            [
                m | {"payload": {}, "status": PENDING, "next_attempt_at": func.now()}
                for m in messages
            ]
        )
        .on_conflict_do_nothing(index_elements=[WebhookMessage.id])
        .returning(WebhookMessage.id, WebhookMessage.tenant_id, WebhookMessage.workflow_id)
    )
    return [PendingMessage(**row._mapping) for row in rows]


async def overdue_messages(
    session: AsyncSession, overdue_for: timedelta, limit: int
) -> list[PendingMessage]:
    """Pending messages whose next attempt is overdue by `overdue_for`: their workflow should
    have made it and has not (never started, ended abnormally, or a worker's backlog)."""
    rows = await session.execute(
        select(WebhookMessage.id, WebhookMessage.tenant_id, WebhookMessage.workflow_id)
        .where(
            WebhookMessage.status == PENDING,
            WebhookMessage.next_attempt_at < func.now() - overdue_for,
        )
        .order_by(WebhookMessage.next_attempt_at)
        .limit(limit)
    )
    return [PendingMessage(**row._mapping) for row in rows]


@dataclass(frozen=True)
class MessageToSend:
    status: str
    event_type: str
    subject_id: uuid.UUID
    endpoint_id: uuid.UUID


async def message_to_send(
    session: AsyncSession, tenant_id: uuid.UUID, message_id: uuid.UUID
) -> MessageToSend | None:
    """None when the message is gone (its endpoint deleted, its tenant too)."""
    row = (
        await session.execute(
            select(
                WebhookMessage.status,
                WebhookMessage.event_type,
                WebhookMessage.subject_id,
                WebhookMessage.endpoint_id,
            ).where(WebhookMessage.id == message_id, WebhookMessage.tenant_id == tenant_id)
        )
    ).one_or_none()
    return MessageToSend(**row._mapping) if row else None


@dataclass(frozen=True)
class AttemptRecord:
    payload: dict[str, Any] | None  # what was sent (None: nothing was)
    status_code: int | None
    response_body: str | None
    error: str | None
    duration_ms: int


async def record_attempt(
    session: AsyncSession,
    message_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    attempt: AttemptRecord,
    status: str,
    next_attempt_in_seconds: float | None,
    counted: bool = True,
) -> None:
    """The attempt, and the message after it: `status` (pending: the next attempt is due in
    `next_attempt_in_seconds`); the endpoint's failing_since set at its first failure, cleared
    by a delivery. `counted=False`: nothing was POSTed (the attempt row says why)."""
    session.add(
        WebhookAttempt(
            message_id=message_id,
            status_code=attempt.status_code,
            response_body=attempt.response_body,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
        )
    )
    next_at = (
        func.now() + timedelta(seconds=next_attempt_in_seconds)
        if status == PENDING and next_attempt_in_seconds is not None
        else None
    )
    await session.execute(
        update(WebhookMessage)
        .where(WebhookMessage.id == message_id, WebhookMessage.status == PENDING)
        .values(
            status=status,
            attempts=WebhookMessage.attempts + (1 if counted else 0),
            next_attempt_at=next_at,
            delivered_at=func.now() if status == DELIVERED else None,
            **({"payload": attempt.payload} if attempt.payload is not None else {}),
        )
    )
    if not counted:
        return
    # A delivery clears failing_since; only the first failure dates it, so a failing
    # endpoint's row is not rewritten at every attempt.
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .where(
            WebhookEndpoint.failing_since.is_not(None)
            if status == DELIVERED
            else WebhookEndpoint.failing_since.is_(None)
        )
        .values(failing_since=None if status == DELIVERED else func.now())
    )


@dataclass(frozen=True)
class FailingEndpoint:
    id: uuid.UUID
    tenant_id: uuid.UUID
    url: str
    enabled: bool
    failing_since: datetime | None
    now: datetime


async def endpoint_of_message(
    session: AsyncSession, tenant_id: uuid.UUID, message_id: uuid.UUID
) -> FailingEndpoint | None:
    """The message's endpoint, locked until the transaction ends (judged once at a time)."""
    row = (
        await session.execute(
            select(
                WebhookEndpoint.id,
                WebhookEndpoint.tenant_id,
                WebhookEndpoint.url,
                WebhookEndpoint.enabled,
                WebhookEndpoint.failing_since,
                func.now().label("now"),
            )
            .join(WebhookMessage, WebhookMessage.endpoint_id == WebhookEndpoint.id)
            .where(WebhookMessage.id == message_id, WebhookMessage.tenant_id == tenant_id)
            .with_for_update(of=WebhookEndpoint)
        )
    ).one_or_none()
    return FailingEndpoint(**row._mapping) if row else None


async def disable_endpoint(session: AsyncSession, endpoint_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(enabled=False, disabled_reason=reason, updated_at=func.now())
    )


async def messages_since(
    session: AsyncSession, endpoint_id: uuid.UUID, since: datetime
) -> tuple[int, int]:
    """(messages, failed messages) of the endpoint attempted since `since`."""
    attempted = (
        select(WebhookMessage.id, WebhookMessage.status)
        .join(WebhookAttempt, WebhookAttempt.message_id == WebhookMessage.id)
        .where(WebhookMessage.endpoint_id == endpoint_id, WebhookAttempt.attempted_at >= since)
        .distinct()
        .subquery()
    )
    row = (
        await session.execute(
            select(func.count(), func.count().filter(attempted.c.status == FAILED)).select_from(
                attempted
            )
        )
    ).one()
    return row[0], row[1]


@dataclass(frozen=True)
class ReplayCandidate:
    status: str
    workflow_id: str
    endpoint_enabled: bool


async def message_for_replay(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, message_id: uuid.UUID
) -> ReplayCandidate | None:
    """The tenant's message of that endpoint, locked until the transaction ends."""
    row = (
        await session.execute(
            select(
                WebhookMessage.status,
                WebhookMessage.workflow_id,
                WebhookEndpoint.enabled.label("endpoint_enabled"),
            )
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
            .where(
                WebhookMessage.id == message_id,
                WebhookMessage.endpoint_id == endpoint_id,
                WebhookMessage.tenant_id == tenant_id,
            )
            .with_for_update(of=WebhookMessage)
        )
    ).one_or_none()
    return ReplayCandidate(**row._mapping) if row else None


async def reopen_message(session: AsyncSession, message_id: uuid.UUID, workflow_id: str) -> None:
    """Pending again, under its replay's workflow, the first attempt due at once."""
    await session.execute(
        update(WebhookMessage)
        .where(WebhookMessage.id == message_id)
        .values(status=PENDING, workflow_id=workflow_id, next_attempt_at=func.now())
    )
