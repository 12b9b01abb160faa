"""The activity behind workflows/notices.py: upsert the recipient, store the notification once."""

import dataclasses
import hashlib
import json
import uuid

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from temporal_clients.notifications import delivery_retry, notification_workflow_id
from db.notifications import create_notification
from db.recipients import upsert_recipient
from domain.booking_contracts import NoticeCreated, NoticeRequest
from domain.types import NotificationStatus, Priority
from config.settings import Settings


class NoticeActivities:
    def __init__(self, sessions: async_sessionmaker, settings: Settings):
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="create_notice")
    async def create_notice(self, request: NoticeRequest) -> NoticeCreated:
        """Idempotent by (tenant, idempotency key): a retry returns the row the first attempt stored."""
        tenant_id = uuid.UUID(request.tenant_id)
        contact = {
            k: v
            for k, v in dataclasses.asdict(request.recipient).items()
            if v is not None and k != "id"
        }
        async with self._sessions.begin() as session:
            recipient = await upsert_recipient(
                session, tenant_id, request.recipient_external_id, contact
            )
            created = await create_notification(
                session,
                dict(
                    tenant_id=tenant_id,
                    recipient_id=recipient.id,
                    event_key=request.event_key,
                    priority=Priority.NORMAL,
                    channels=request.channels,
                    context=request.context,
                    idempotency_key=request.idempotency_key,
                    request_digest=_digest(request),
                    send_at=None,
                    workflow_id=notification_workflow_id(tenant_id, request.idempotency_key),
                    status=NotificationStatus.ACCEPTED,
                ),
            )
        notification = created.notification
        return NoticeCreated(
            str(notification.id), notification.workflow_id, delivery_retry(self._settings)
        )


def _digest(request: NoticeRequest) -> bytes:
    canonical = json.dumps(
        dataclasses.asdict(request), sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).digest()
