"""Accepting a notification: validate references, store it once, start its workflow."""

import hashlib
import json
import uuid
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.errors import ApiError, field_error
from api.schemas import NotificationAccepted, NotificationCreate, RecipientRef
from temporal_clients.notifications import notification_workflow_id, start_notification
from db.models import Recipient
from db.notifications import create_notification
from db.recipients import RecipientUpsert, get_recipient
from db.session import without_transaction
from db.tenants import TenantIdentity
from domain.contacts import address_external_id
from domain.types import NotificationStatus
from observability.metrics import NOTIFICATIONS_ACCEPTED
from config.settings import Settings


async def submit_notification(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    request: NotificationCreate,
    idempotency_key: str | None,
) -> NotificationAccepted:
    if request.send_at is not None and request.send_at < datetime.now(timezone.utc):
        raise field_error("send_at", "is in the past; omit it to send now")
    key = idempotency_key or str(uuid.uuid4())
    digest = _request_digest(request)
    values = dict(
        tenant_id=tenant.id,
        event_key=request.event_key,
        priority=request.priority,
        channels=[str(c) for c in request.channels] if request.channels else None,
        context=request.context,
        idempotency_key=key,
        request_digest=digest,
        send_at=request.send_at,
        workflow_id=notification_workflow_id(tenant.id, key),
        status=NotificationStatus.ACCEPTED,
    )
    if request.recipient.has_contact:
        # Recipient and notification in one statement: atomic on its own, so no transaction.
        await without_transaction(session)
        created = await create_notification(session, values, recipient=_contact(tenant.id, request.recipient))
    else:
        async with session.begin():
            recipient = await _known_recipient(session, tenant.id, request.recipient.external_id)
            created = await create_notification(session, {**values, "recipient_id": recipient.id})
    notification = created.notification
    if created.replayed and notification.request_digest != digest:
        raise ApiError(
            409,
            "idempotency_conflict",
            "Idempotency-Key: this key was already used for a different request",
            "Idempotency-Key",
        )
    try:
        # Also on a replay: if the first request stored the row but could not start
        # the workflow, the retry starts it. Starting is idempotent by workflow id.
        await start_notification(temporal, settings, notification)
    except RPCError as exc:
        raise ApiError(
            503,
            "temporal_unavailable",
            f"the notification is stored but its workflow could not start ({exc.message}); "
            "retry with the same Idempotency-Key",
        ) from exc
    if not created.replayed:
        NOTIFICATIONS_ACCEPTED.labels(notification.event_key, notification.priority).inc()
    return NotificationAccepted(
        id=notification.id,
        status=notification.status,
        workflow_id=notification.workflow_id,
        idempotency_key=key,
        replayed=created.replayed,
    )


def _contact(tenant_id: uuid.UUID, ref: RecipientRef) -> RecipientUpsert:
    """Inline contact details: stored on the recipient (created if new) for next time."""
    external_id = ref.external_id or address_external_id(ref.email, ref.phone)
    return RecipientUpsert(tenant_id, external_id, ref.model_dump(exclude={"external_id"}, exclude_none=True))


async def _known_recipient(session: AsyncSession, tenant_id: uuid.UUID, external_id: str) -> Recipient:
    recipient = await get_recipient(session, tenant_id, external_id)
    if recipient is None:
        raise field_error(
            "recipient.external_id",
            f"no recipient {external_id!r}; create it with PUT /v1/recipients/{{external_id}} "
            "or give contact details inline",
        )
    return recipient


def _request_digest(request: NotificationCreate) -> bytes:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()
