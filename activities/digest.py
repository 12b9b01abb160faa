"""Digest activities: hand a notification to its recipient's digest, and send a digest."""

import hashlib
import uuid
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from temporal_clients.notifications import notification_workflow_id, start_notification
from db import deliveries as store
from db.notifications import create_notification
from domain.contracts import DigestInput, DigestItem, EnqueueDigestInput, SendDigestInput
from domain.types import DIGEST_PREFIX, Channel, NotificationStatus, Priority, event_category
from config.settings import Settings
from workflows.digest import DigestWorkflow, digest_workflow_id


class DigestActivities:
    def __init__(self, client: Client, sessions: async_sessionmaker, settings: Settings):
        self._client = client
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="enqueue_digest")
    async def enqueue_digest(self, input: EnqueueDigestInput) -> None:
        """Signal-with-start: feeds the running digest, or starts the next one."""
        async with self._sessions() as session:
            loaded = await store.load_notification_context(
                session, uuid.UUID(input.notification_id), uuid.UUID(input.tenant_id)
            )
        notification, recipient = loaded.notification, loaded.recipient
        category = event_category(notification.event_key)
        context = notification.context or {}
        item = DigestItem(
            notification_id=input.notification_id,
            event_key=notification.event_key,
            summary=str(context.get("subject") or context.get("title") or context.get("message") or notification.event_key),
            created_at=datetime.now(timezone.utc).isoformat(),
            flush_at=input.flush_at,
        )
        await self._client.start_workflow(
            DigestWorkflow.run,
            DigestInput(input.tenant_id, str(recipient.id), category, input.frequency, input.flush_at),
            id=digest_workflow_id(input.tenant_id, str(recipient.id), category, input.frequency),
            task_queue=self._settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="add",
            start_signal_args=[item],
        )

    @activity.defn(name="send_digest")
    async def send_digest(self, input: SendDigestInput) -> str:
        """One email listing the batch, sent as an ordinary notification (idempotent per batch)."""
        key = f"digest-{hashlib.sha256(input.batch_id.encode()).hexdigest()[:32]}"
        count = len(input.items)
        title = f"Your {input.frequency} {input.category} digest: {count} update{'s' if count != 1 else ''}"
        lines = "\n".join(f"- {item.summary}" for item in input.items)
        async with self._sessions.begin() as session:
            created = await create_notification(
                session,
                dict(
                    tenant_id=uuid.UUID(input.tenant_id),
                    recipient_id=uuid.UUID(input.recipient_id),
                    event_key=f"{DIGEST_PREFIX}{input.category}",
                    priority=Priority.NORMAL,
                    channels=[Channel.EMAIL],
                    context={"subject": title, "title": title, "message": lines,
                             "items": [item.__dict__ for item in input.items]},
                    idempotency_key=key,
                    request_digest=hashlib.sha256(key.encode()).digest(),
                    send_at=None,
                    workflow_id=notification_workflow_id(input.tenant_id, key),
                    status=NotificationStatus.ACCEPTED,
                ),
            )
        await start_notification(self._client, self._settings, created.notification)
        return str(created.notification.id)
