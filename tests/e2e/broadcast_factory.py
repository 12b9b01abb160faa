"""A broadcast page as plan_broadcast_page leaves it, written directly: the broadcast, its
recipients, one notification each and a pending delivery of one channel each, in a few
set-based statements (for tests of send_broadcast_batch, and bench/broadcast_sends.py)."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.deliveries import delivery_id_for
from domain.broadcasts import broadcast_notification_key

NEWS_CONTEXT = {"title": "Spring sale", "message": "Everything is 20% off until Sunday."}


@dataclass(frozen=True)
class PendingPage:
    broadcast_id: uuid.UUID
    tenant_id: uuid.UUID
    channel: str
    recipient_ids: list[uuid.UUID]  # in the order a broadcast walks them
    addresses: list[str]  # each recipient's, in the same order
    delivery_ids: list[uuid.UUID]

    def delivery_of(self, address: str) -> uuid.UUID:
        return self.delivery_ids[self.addresses.index(address)]


async def pending_page(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    count: int,
    channel: str = "email",
    *,
    context: dict[str, Any] | None = None,
    names: list[str | None] | None = None,
    event_key: str = "product.news",
) -> PendingPage:
    """`count` recipients with a pending `channel` delivery each (addresses unique to the call)."""
    broadcast_id = uuid.uuid4()
    run = uuid.uuid4().hex[:8]
    recipient_ids = sorted(uuid.uuid4() for _ in range(count))
    if channel == "email":
        addresses = [f"b{i}-{run}@example.com" for i in range(count)]
    else:
        addresses = [f"+1415{int(run, 16) % 1000:03d}{i:04d}" for i in range(count)]
    notification_ids = [uuid.uuid4() for _ in range(count)]
    delivery_ids = [delivery_id_for(n, channel) for n in notification_ids]
    context = context if context is not None else NEWS_CONTEXT
    workflow_id = f"broadcast-{tenant_id}-{broadcast_id}"
    async with sessions.begin() as session:
        await session.execute(
            text("""
                INSERT INTO broadcasts (id, tenant_id, idempotency_key, request_digest, event_key,
                    priority, channels, context, audience_kind, workflow_id, status, total,
                    planned, started_at)
                VALUES (:id, :tenant_id, :key, :digest, :event_key, 'normal', ARRAY[:channel],
                    CAST(:context AS jsonb), 'recipients', :workflow_id, 'running', :count,
                    :count, now())
            """),
            {
                "id": broadcast_id,
                "tenant_id": tenant_id,
                "key": f"test-{broadcast_id}",
                "digest": hashlib.sha256(broadcast_id.bytes).digest(),
                "event_key": event_key,
                "channel": channel,
                "context": json.dumps(context),
                "workflow_id": workflow_id,
                "count": count,
            },
        )
        address_column = "email" if channel == "email" else "phone"
        await session.execute(
            text(f"""
                INSERT INTO recipients (id, tenant_id, external_id, name, {address_column})
                SELECT id, :tenant_id, 'broadcast-' || id, name, address
                FROM unnest(CAST(:ids AS uuid[]), CAST(:names AS text[]),
                            CAST(:addresses AS text[])) AS r(id, name, address)
            """),
            {
                "tenant_id": tenant_id,
                "ids": recipient_ids,
                "names": names or [None] * count,
                "addresses": addresses,
            },
        )
        await session.execute(
            text(f"""
                INSERT INTO notifications (id, tenant_id, recipient_id, event_key, priority,
                    channels, context, idempotency_key, request_digest, workflow_id, status,
                    recipient_{address_column}, broadcast_id)
                SELECT n.id, :tenant_id, n.recipient_id, :event_key, 'normal', ARRAY[:channel],
                    CAST(:context AS jsonb), n.key, :digest, :workflow_id, 'sending', n.address,
                    :broadcast_id
                FROM unnest(CAST(:ids AS uuid[]), CAST(:recipient_ids AS uuid[]),
                            CAST(:keys AS text[]), CAST(:addresses AS text[]))
                     AS n(id, recipient_id, key, address)
            """),
            {
                "tenant_id": tenant_id,
                "event_key": event_key,
                "channel": channel,
                "context": json.dumps(context),
                "digest": hashlib.sha256(broadcast_id.bytes).digest(),
                "workflow_id": workflow_id,
                "broadcast_id": broadcast_id,
                "ids": notification_ids,
                "recipient_ids": recipient_ids,
                "keys": [broadcast_notification_key(broadcast_id, r) for r in recipient_ids],
                "addresses": addresses,
            },
        )
        await session.execute(
            text("""
                INSERT INTO deliveries (id, tenant_id, notification_id, channel, address, status)
                SELECT d.id, :tenant_id, d.notification_id, :channel, d.address, 'pending'
                FROM unnest(CAST(:ids AS uuid[]), CAST(:notification_ids AS uuid[]),
                            CAST(:addresses AS text[])) AS d(id, notification_id, address)
            """),
            {
                "tenant_id": tenant_id,
                "channel": channel,
                "ids": delivery_ids,
                "notification_ids": notification_ids,
                "addresses": addresses,
            },
        )
    return PendingPage(broadcast_id, tenant_id, channel, recipient_ids, addresses, delivery_ids)


async def deliveries_of(
    sessions: async_sessionmaker[AsyncSession], page: PendingPage
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each of the page's deliveries as recorded, with its notification's status."""
    async with sessions() as session:
        rows = await session.execute(
            text("""
                SELECT d.*, n.status AS notification_status FROM deliveries d
                JOIN notifications n ON n.id = d.notification_id
                WHERE d.id = ANY(CAST(:ids AS uuid[]))
            """),
            {"ids": page.delivery_ids},
        )
        return {row.id: dict(row._mapping) for row in rows}


async def broadcast_counters(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: uuid.UUID
) -> dict[str, int]:
    async with sessions() as session:
        row = (
            await session.execute(
                text("SELECT sent, failed FROM broadcasts WHERE id = :id"), {"id": broadcast_id}
            )
        ).one()
        return {"sent": row.sent, "failed": row.failed}
