"""What a recipient changes in their inbox: read, unread, seen, archive, unarchive (for ids or
for every message a filter lists), delete the read ones, follow a message's link.

Each change and its event in the inbox's log (db/inbox_events.py: what every open stream of the
recipient learns) commit in one transaction, one event per call naming the messages that
actually changed; a call that changes nothing records no event. Reading a message for the first
time, or following its link, is reported on its delivery as a provider's webhook reports on an
email (services/tracking.py): the delivery moves to `opened` or `clicked`, and the notification's
workflow is told, which is what an "in-app, then email unless opened" fallback waits for (a
signal lost with Temporal unreachable is made good when the window ends: the fallback decides
on the delivery's recorded status)."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.inbox import ChangeResult, ClickResult, DeleteResult
from db import inbox as store
from db.inbox_events import append_event
from domain.filters import InboxFilter
from domain.inbox import InboxChange, InboxEventKind, InboxRecipient
from domain.provider_events import inbox_report
from services.errors import NotFound, invalid_field
from services.inbox import public_counts
from services.tracking import WorkflowNews, apply_report_to_many, tell_workflows


async def change_messages(
    session: AsyncSession,
    temporal: Client,
    recipient: InboxRecipient,
    change: InboxChange,
    ids: list[uuid.UUID] | None,
    where: InboxFilter | None,
) -> ChangeResult:
    """POST /v1/inbox/read, /unread, /seen, /archive, /unarchive: for `ids` or `where`."""
    if ids is not None and where is not None:
        raise invalid_field("filter", "give ids or a filter, not both")
    if ids is None and where is None:
        raise invalid_field("ids", "give the ids of the messages to change, or a filter")
    now = datetime.now(UTC)
    async with session.begin():
        changed = await store.change_messages(
            session, recipient.recipient_id, recipient.tenant_id, change, now, ids, where
        )
        news = await _record(session, recipient, change, changed, now)
        counts = await store.inbox_counts(session, recipient.recipient_id)
    await tell_workflows(temporal, news)
    return ChangeResult(updated=len(changed), counts=public_counts(counts))


async def click(
    session: AsyncSession, temporal: Client, recipient: InboxRecipient, message_id: uuid.UUID
) -> ClickResult:
    """POST /v1/inbox/messages/{id}/click: the recipient follows the message's link, which
    reads it; its delivery moves to `clicked`."""
    now = datetime.now(UTC)
    async with session.begin():
        message = await store.get_message(
            session, recipient.recipient_id, recipient.tenant_id, message_id
        )
        if message is None:
            raise NotFound(f"message {message_id} not found", "message_id")
        read = await store.change_messages(
            session,
            recipient.recipient_id,
            recipient.tenant_id,
            InboxChange.READ,
            now,
            ids=[message_id],
        )
        news = await _record(session, recipient, InboxChange.READ, read, now, clicked=message_id)
    await tell_workflows(temporal, news)
    return ClickResult(action_url=message.action_url)


async def delete_read(session: AsyncSession, recipient: InboxRecipient) -> DeleteResult:
    """DELETE /v1/inbox/read: every read message, whichever view it is in."""
    async with session.begin():
        deleted = await store.delete_read_messages(
            session, recipient.recipient_id, recipient.tenant_id
        )
        if deleted:
            await append_event(
                session,
                recipient.tenant_id,
                recipient.recipient_id,
                InboxEventKind.DELETED,
                {"ids": [str(i) for i in deleted]},
            )
        counts = await store.inbox_counts(session, recipient.recipient_id)
    return DeleteResult(deleted=len(deleted), counts=public_counts(counts))


async def _record(
    session: AsyncSession,
    recipient: InboxRecipient,
    change: InboxChange,
    changed: list[uuid.UUID],
    now: datetime,
    clicked: uuid.UUID | None = None,
) -> list[WorkflowNews]:
    """The change's event (if anything changed) and its reports on the deliveries: each message
    read is `opened`, a followed link `clicked`. Returns what to tell workflows after commit."""
    if changed:
        await append_event(
            session,
            recipient.tenant_id,
            recipient.recipient_id,
            InboxEventKind.UPDATED,
            {"ids": [str(i) for i in changed], "change": change.value, "at": now.isoformat()},
        )
    news = []
    if change is InboxChange.READ and changed:
        news += await apply_report_to_many(session, inbox_report("read", now), changed)
    if clicked is not None:  # after the read: a first read dates the opening, then the click
        news += await apply_report_to_many(session, inbox_report("clicked", now), [clicked])
    return news
