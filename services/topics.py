"""Topics: a tenant's named audiences, which broadcasts reach (services/broadcasts.py).

Subscribers are added and removed up to 1,000 at once, by the tenant's own ids for them. Every
id must name one of the tenant's recipients: otherwise the call is refused naming the first few
unknown ones, and writes nothing. Adding subscribers creates the topic; adding or removing them
again changes nothing (idempotent). Deleting a topic deletes its subscriptions; a broadcast to
it that is still running finds no more subscribers."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.topics import (
    SubscriberPage,
    SubscriberPublic,
    SubscribersAdded,
    SubscribersRemoved,
    SubscriptionPage,
    SubscriptionPublic,
    TopicPage,
    TopicPublic,
)
from db import topics
from db.external_ids import unknown_external_ids
from domain.tenants import TenantIdentity
from services.errors import NotFound, invalid_field
from services.pages import decode_cursor, page
from services.recipients import find_recipient

UNKNOWN_SHOWN = 5  # unknown ids a refusal names


async def refuse_unknown_recipients(
    session: AsyncSession, tenant_id: uuid.UUID, external_ids: Sequence[str], field: str
) -> None:
    """422 naming `field` and the first few ids no recipient of the tenant has."""
    unknown = await unknown_external_ids(session, tenant_id, external_ids, UNKNOWN_SHOWN + 1)
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:UNKNOWN_SHOWN])
        more = " and more" if len(unknown) > UNKNOWN_SHOWN else ""
        raise invalid_field(
            field,
            f"no recipient {shown}{more}; create each with PUT /v1/recipients/{{external_id}}",
        )


async def add_subscribers(
    session: AsyncSession, tenant: TenantIdentity, key: str, external_ids: list[str]
) -> SubscribersAdded:
    unique = list(dict.fromkeys(external_ids))
    async with session.begin():
        await refuse_unknown_recipients(session, tenant.id, unique, "recipients")
        created, added = await topics.subscribe(session, tenant.id, key, unique)
    return SubscribersAdded(key=key, created=created, added=added)


async def remove_subscribers(
    session: AsyncSession, tenant: TenantIdentity, key: str, external_ids: list[str]
) -> SubscribersRemoved:
    unique = list(dict.fromkeys(external_ids))
    async with session.begin():
        await _find_topic(session, tenant, key)
        await refuse_unknown_recipients(session, tenant.id, unique, "recipients")
        removed = await topics.unsubscribe(session, tenant.id, key, unique)
    return SubscribersRemoved(key=key, removed=removed)


async def delete_topic(session: AsyncSession, tenant: TenantIdentity, key: str) -> None:
    async with session.begin():
        if not await topics.delete_topic(session, tenant.id, key):
            raise _no_topic(key)


async def list_topics(
    session: AsyncSession, tenant: TenantIdentity, cursor: str | None, limit: int
) -> TopicPage:
    after = decode_cursor(cursor, str)
    rows = await topics.tenant_topics(session, tenant.id, _first(after), limit + 1)
    shown, next_cursor = page(rows, limit, lambda topic: (topic.key,))
    return TopicPage(
        data=[TopicPublic(key=t.key, created_at=t.created_at) for t in shown],
        next_cursor=next_cursor,
    )


async def list_subscribers(
    session: AsyncSession, tenant: TenantIdentity, key: str, cursor: str | None, limit: int
) -> SubscriberPage:
    after = decode_cursor(cursor, uuid.UUID)
    await _find_topic(session, tenant, key)
    rows = await topics.topic_subscribers(session, tenant.id, key, _first(after), limit + 1)
    shown, next_cursor = page(rows, limit, lambda row: (row.recipient_id,))
    return SubscriberPage(
        data=[
            SubscriberPublic(external_id=r.external_id, subscribed_at=r.subscribed_at)
            for r in shown
        ],
        next_cursor=next_cursor,
    )


async def list_recipient_topics(
    session: AsyncSession, tenant: TenantIdentity, external_id: str, cursor: str | None, limit: int
) -> SubscriptionPage:
    after = decode_cursor(cursor, str)
    recipient = await find_recipient(session, tenant, external_id)
    rows = await topics.recipient_topics(session, tenant.id, recipient.id, _first(after), limit + 1)
    shown, next_cursor = page(rows, limit, lambda row: (row.key,))
    return SubscriptionPage(
        data=[SubscriptionPublic(key=r.key, subscribed_at=r.subscribed_at) for r in shown],
        next_cursor=next_cursor,
    )


def _first(position: tuple[Any, ...] | None) -> Any:
    """A one-value cursor's value (None: the first page)."""
    return None if position is None else position[0]


async def _find_topic(session: AsyncSession, tenant: TenantIdentity, key: str) -> topics.TopicRow:
    topic = await topics.get_topic(session, tenant.id, key)
    if topic is None:
        raise _no_topic(key)
    return topic


def _no_topic(key: str) -> NotFound:
    return NotFound(f"topic {key!r} not found")
