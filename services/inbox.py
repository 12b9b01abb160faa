"""A recipient's inbox, as the recipient sees it: the list, the counts, the recent messages
(what changes it: services/inbox_changes.py).

Every function takes the `InboxRecipient` a recipient token names, and reads only that
recipient's messages of that tenant. Expired messages are never shown."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.inbox import (
    CountsList,
    FilterCounts,
    InboxCountsPublic,
    InboxFilterFields,
    MessagePage,
    MessagePublic,
    RecentMessages,
)
from db.inbox import count_messages, list_messages
from domain.filters import InboxFilter
from domain.inbox import InboxCounts, InboxMessage, InboxRecipient
from services.pages import decode_cursor, page


async def list_inbox(
    session: AsyncSession,
    recipient: InboxRecipient,
    where: InboxFilter,
    cursor: str | None,
    limit: int,
) -> MessagePage:
    """GET /v1/inbox: newest first, a page at a time (services/pages.py)."""
    after = decode_cursor(cursor, datetime, uuid.UUID)
    rows = await list_messages(
        session, recipient.recipient_id, recipient.tenant_id, where, limit + 1, after
    )
    shown, next_cursor = page(rows, limit, lambda message: (message.created_at, message.id))
    return MessagePage(data=[public_message(m) for m in shown], next_cursor=next_cursor)


async def recent(session: AsyncSession, recipient: InboxRecipient, limit: int) -> RecentMessages:
    """GET /v1/inbox/recent: the newest messages of the feed, read or not."""
    rows = await list_messages(
        session, recipient.recipient_id, recipient.tenant_id, InboxFilter(), limit
    )
    return RecentMessages(data=[public_message(m) for m in rows])


async def counts(
    session: AsyncSession, recipient: InboxRecipient, where: InboxFilter
) -> InboxCountsPublic:
    """GET /v1/inbox/counts: over the messages the list shows with the same filter."""
    found = await count_messages(session, recipient.recipient_id, recipient.tenant_id, where)
    return public_counts(found)


async def counts_per_filter(
    session: AsyncSession, recipient: InboxRecipient, filters: list[InboxFilterFields]
) -> CountsList:
    """POST /v1/inbox/counts: several filters' counts at once (a tab bar's badges)."""
    data = []
    for fields in filters:
        found = await count_messages(
            session, recipient.recipient_id, recipient.tenant_id, fields.as_filter()
        )
        data.append(FilterCounts(filter=fields, **found.as_json()))
    return CountsList(data=data)


def public_message(message: InboxMessage) -> MessagePublic:
    """The message as the stream carries it too (InboxMessage.as_json)."""
    return MessagePublic.model_validate(message.as_json())


def public_counts(found: InboxCounts) -> InboxCountsPublic:
    return InboxCountsPublic(**found.as_json())
