"""Topics: a tenant's named audiences and their subscribers (topics, topic_subscriptions).

Subscribers are added and removed many at once, each call one set-based statement on the
recipients the tenant names by its own ids (checked first: db/external_ids.py)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.broadcast_models import Topic, TopicSubscription
from db.models import Recipient


@dataclass(frozen=True)
class TopicRow:
    key: str
    created_at: datetime


@dataclass(frozen=True)
class SubscriberRow:
    recipient_id: uuid.UUID
    external_id: str
    subscribed_at: datetime


@dataclass(frozen=True)
class SubscriptionRow:
    key: str
    subscribed_at: datetime


# Creates the topic or, when it exists, locks its row until the transaction ends: a DELETE of
# the topic at the same time waits, so the subscriptions inserted next never lose their topic.
_CLAIM_TOPIC = text("""
    INSERT INTO topics (tenant_id, key) VALUES (:tenant_id, :key)
    ON CONFLICT (tenant_id, key) DO UPDATE SET key = excluded.key
    RETURNING (xmax = 0) AS created
""")
_SUBSCRIBE = text("""
    INSERT INTO topic_subscriptions (tenant_id, topic_key, recipient_id)
    SELECT :tenant_id, :key, r.id FROM recipients r
    WHERE r.tenant_id = :tenant_id AND r.external_id = ANY(CAST(:external_ids AS text[]))
    ON CONFLICT DO NOTHING
""")
_UNSUBSCRIBE = text("""
    DELETE FROM topic_subscriptions s
    USING recipients r
    WHERE s.tenant_id = :tenant_id AND s.topic_key = :key AND s.recipient_id = r.id
      AND r.tenant_id = :tenant_id AND r.external_id = ANY(CAST(:external_ids AS text[]))
""")


async def subscribe(
    session: AsyncSession, tenant_id: uuid.UUID, key: str, external_ids: Sequence[str]
) -> tuple[bool, int]:
    """Subscribe the recipients to the topic, creating it if new: (created, subscriptions
    added). Those already subscribed are left as they are."""
    values = {"tenant_id": tenant_id, "key": key, "external_ids": list(external_ids)}
    created = bool(await session.scalar(_CLAIM_TOPIC, values))
    added = await session.execute(_SUBSCRIBE, values)
    return created, added.rowcount  # type: ignore[attr-defined]  # a CursorResult


async def unsubscribe(
    session: AsyncSession, tenant_id: uuid.UUID, key: str, external_ids: Sequence[str]
) -> int:
    """Remove the recipients from the topic: how many were subscribed."""
    values = {"tenant_id": tenant_id, "key": key, "external_ids": list(external_ids)}
    removed = await session.execute(_UNSUBSCRIBE, values)
    return int(removed.rowcount)  # type: ignore[attr-defined]


async def get_topic(session: AsyncSession, tenant_id: uuid.UUID, key: str) -> TopicRow | None:
    row = (
        await session.execute(
            select(Topic.key, Topic.created_at).where(
                Topic.tenant_id == tenant_id, Topic.key == key
            )
        )
    ).one_or_none()
    return None if row is None else TopicRow(row.key, row.created_at)


async def delete_topic(session: AsyncSession, tenant_id: uuid.UUID, key: str) -> bool:
    """Delete the topic and its subscriptions (cascade); False if there was none."""
    deleted = await session.execute(
        delete(Topic).where(Topic.tenant_id == tenant_id, Topic.key == key)
    )
    return bool(deleted.rowcount)  # type: ignore[attr-defined]  # a CursorResult


async def tenant_topics(
    session: AsyncSession, tenant_id: uuid.UUID, after: str | None, limit: int
) -> list[TopicRow]:
    """The tenant's topics by key, after `after` (the primary key's order)."""
    query = select(Topic.key, Topic.created_at).where(Topic.tenant_id == tenant_id)
    if after is not None:
        query = query.where(Topic.key > after)
    rows = await session.execute(query.order_by(Topic.key).limit(limit))
    return [TopicRow(row.key, row.created_at) for row in rows]


async def topic_subscribers(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    key: str,
    after: uuid.UUID | None,
    limit: int,
) -> list[SubscriberRow]:
    """The topic's subscribers by recipient id (the primary key's order), after `after`."""
    s = TopicSubscription
    query = (
        select(s.recipient_id, Recipient.external_id, s.created_at.label("subscribed_at"))
        .join(Recipient, Recipient.id == s.recipient_id)
        .where(s.tenant_id == tenant_id, s.topic_key == key)
    )
    if after is not None:
        query = query.where(s.recipient_id > after)
    rows = await session.execute(query.order_by(s.recipient_id).limit(limit))
    return [SubscriberRow(**row._mapping) for row in rows]


async def recipient_topics(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    after: str | None,
    limit: int,
) -> list[SubscriptionRow]:
    """The topics a recipient is subscribed to, by key, after `after`
    (ix_topic_subscriptions_recipient)."""
    s = TopicSubscription
    query = select(s.topic_key.label("key"), s.created_at.label("subscribed_at")).where(
        s.recipient_id == recipient_id, s.tenant_id == tenant_id
    )
    if after is not None:
        query = query.where(s.topic_key > after)
    rows = await session.execute(query.order_by(s.topic_key).limit(limit))
    return [SubscriptionRow(**row._mapping) for row in rows]
