"""Digest activities: hand a notification to its recipient's digest, and send a digest."""

import hashlib
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from config.settings import Settings
from db import deliveries as store
from domain.contracts import DigestInput, DigestItem, EnqueueDigestInput, SendDigestInput
from domain.digest import digest_message, digest_summary
from domain.send_failures import SendFailure
from domain.types import DIGEST_PREFIX, Channel, event_category
from services.new_notifications import NewNotification, accept, idempotency_key_digest
from temporal_clients.digests import add_to_digest


class DigestActivities:
    def __init__(
        self, client: Client, sessions: async_sessionmaker[AsyncSession], settings: Settings
    ):
        self._client = client
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="enqueue_digest")
    async def enqueue_digest(self, input: EnqueueDigestInput) -> None:
        async with self._sessions() as session:
            loaded = await store.load_notification_context(
                session, input.notification_id, input.tenant_id
            )
        if loaded is None:
            raise ApplicationError(
                "notification not found", type=SendFailure.NOT_FOUND, non_retryable=True
            )
        notification, recipient = loaded.notification, loaded.recipient
        category = event_category(notification.event_key)
        item = DigestItem(
            notification_id=input.notification_id,
            event_key=notification.event_key,
            summary=digest_summary(notification.event_key, notification.context or {}),
            created_at=datetime.now(UTC),
            flush_at=input.flush_at,
        )
        digest = DigestInput(
            input.tenant_id, recipient.id, category, input.frequency, input.flush_at
        )
        await add_to_digest(self._client, self._settings, digest, item)

    @activity.defn(name="send_digest")
    async def send_digest(self, input: SendDigestInput) -> str:
        """One email listing the batch, accepted as an ordinary notification (idempotent per
        batch)."""
        _subject, context = digest_message(input.frequency, input.category, input.items)
        key = digest_key(input.batch_id)
        async with self._sessions() as session:
            accepted = await accept(
                session,
                self._client,
                self._settings,
                NewNotification(
                    tenant_id=input.tenant_id,
                    recipient_id=input.recipient_id,
                    event_key=f"{DIGEST_PREFIX}{input.category}",
                    channels=[Channel.EMAIL],
                    context=context,
                    idempotency_key=key,
                    request_digest=idempotency_key_digest(key),
                ),
            )
        return str(accepted.notification.id)


def digest_key(batch_id: str) -> str:
    return f"digest-{hashlib.sha256(batch_id.encode()).hexdigest()[:32]}"
