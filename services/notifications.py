"""Notifications through the API: submit one, read it, cancel it.

A submission is accepted as every notification is (services/new_notifications.py: stored once
per idempotency key, its workflow started); the workflow then sends each channel with
workflows/sending.py, which decides retries and failover from provider to provider."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.inbox import InboxOptions
from api.schemas.notifications import (
    CancelOutcome,
    DeliveryPublic,
    MessageFields,
    NotificationAccepted,
    NotificationCreate,
    NotificationPublic,
    RecipientRef,
)
from config.settings import Settings
from db.notifications import get_notification
from db.recipients import RecipientUpsert
from domain.contacts import address_external_id
from domain.tenants import TenantIdentity
from services.errors import Conflict, NotFound, invalid_field
from services.new_notifications import NewNotification, accept, request_digest
from temporal_clients.notifications import WorkflowGone, cancel_notification


async def submit_notification(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    request: NotificationCreate,
    idempotency_key: str | None,
) -> NotificationAccepted:
    """POST /v1/notifications, and what else submits as the API does (test sends, payment
    events, reschedules). Without a key, every call is a new notification."""
    refuse_untimely(request)
    inbox = request.inbox
    key = idempotency_key or str(uuid.uuid4())
    ref = request.recipient
    accepted = await accept(
        session,
        temporal,
        settings,
        NewNotification(
            tenant_id=tenant.id,
            event_key=request.event_key,
            idempotency_key=key,
            request_digest=request_digest(_digested(request)),
            recipient_external_id=ref.external_id,
            contact=_contact(tenant.id, ref) if ref.has_contact else None,
            priority=request.priority,
            channels=[str(c) for c in request.channels] if request.channels else None,
            context=request.context,
            send_at=request.send_at,
            inbox_options=inbox.model_dump(mode="json") if inbox is not None else None,
            key_is_fresh=idempotency_key is None,
        ),
    )
    notification = accepted.notification
    return NotificationAccepted(
        id=notification.id,
        status=notification.status,
        workflow_id=notification.workflow_id,
        idempotency_key=key,
        replayed=accepted.replayed,
    )


def refuse_untimely(request: MessageFields) -> None:
    """A send_at in the past, or an in-app message that would expire before it is sent:
    refused (a notification's and a broadcast's alike)."""
    if request.send_at is not None and request.send_at < datetime.now(UTC):
        raise invalid_field("send_at", "is in the past; omit it to send now")
    refuse_expired_inbox(request)


def refuse_expired_inbox(request: MessageFields) -> None:
    """An in-app message that would expire before it is sent would never show: refused."""
    expires_at = request.inbox.expires_at if request.inbox is not None else None
    if expires_at is None:
        return
    if expires_at <= datetime.now(UTC):
        raise invalid_field("inbox.expires_at", "is in the past: the message would never show")
    if request.send_at is not None and expires_at <= request.send_at:
        raise invalid_field(
            "inbox.expires_at", "is not after send_at: the message would never show"
        )


def _digested(request: NotificationCreate) -> dict[str, Any]:
    """What the request's digest covers. Without inbox options or chat addresses, what it did
    before they existed: a key used before then still replays its notification, not a 409."""
    exclude: dict[str, Any] = {"inbox": True} if request.inbox is None else {}
    if request.recipient.chat_addresses is None:
        exclude["recipient"] = {"chat_addresses"}
    return request.model_dump(mode="json", exclude=exclude or None)


def stored_inbox_options(notification: Any) -> InboxOptions | None:
    """A notification row's inbox options, as they were submitted."""
    stored = notification.inbox_options
    return None if stored is None else InboxOptions.model_validate(stored)


def _contact(tenant_id: uuid.UUID, ref: RecipientRef) -> RecipientUpsert:
    """Inline contact details: stored on the recipient (created if new) for next time."""
    external_id = ref.external_id or address_external_id(ref.email, ref.phone)
    return RecipientUpsert(
        tenant_id, external_id, ref.model_dump(exclude={"external_id"}, exclude_none=True)
    )


async def read_notification(
    session: AsyncSession, tenant: TenantIdentity, notification_id: uuid.UUID
) -> NotificationPublic:
    found = await get_notification(session, tenant.id, notification_id)
    if found is None:
        raise NotFound(f"notification {notification_id} not found")
    notification, external_id, deliveries = found
    return NotificationPublic(
        id=notification.id,
        recipient=external_id,
        event_key=notification.event_key,
        priority=notification.priority,
        channels=notification.channels,
        context=notification.context,
        idempotency_key=notification.idempotency_key,
        send_at=notification.send_at,
        inbox=stored_inbox_options(notification),
        workflow_id=notification.workflow_id,
        status=notification.status,
        status_reason=notification.status_reason,
        created_at=notification.created_at,
        updated_at=notification.updated_at,
        deliveries=[DeliveryPublic.model_validate(d) for d in deliveries],
    )


async def cancel(
    session: AsyncSession, temporal: Client, tenant: TenantIdentity, notification_id: uuid.UUID
) -> CancelOutcome:
    """Stop a notification before it is sent; channels already sent stay as they are."""
    found = await get_notification(session, tenant.id, notification_id)
    if found is None:
        raise NotFound(f"notification {notification_id} not found")
    notification = found[0]
    await session.close()  # do not hold a connection while the workflow settles
    try:
        result = await cancel_notification(temporal, notification.workflow_id)
    except WorkflowGone:
        raise Conflict(
            f"notification {notification_id} has already finished ({notification.status})",
            code="already_finished",
        ) from None
    message = (
        "cancelled before sending"
        if result.cancelled
        else f"nothing left to cancel: the notification is {result.status}"
    )
    return CancelOutcome(
        id=notification_id, cancelled=result.cancelled, status=result.status, message=message
    )
