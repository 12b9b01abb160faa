"""Snoozing a message in a recipient's inbox, and ending the snooze early.

A snoozed message leaves the feed and the counts at once (db/inbox.py hides a snooze still
ahead) and returns at its time through a durable wake-up (workflows/inbox_snooze.py), which
records `message.returned`. Each change records its `messages.updated` event in the same
transaction, so every open inbox of the recipient sees it.

The wake-up is started before the snooze commits: if Temporal cannot take it, the request fails
(503) and nothing is snoozed, rather than a message snoozed with no return announced. If the
commit fails after the start, the wake-up finds no such snooze at its time and does nothing.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.inbox_snooze import SnoozeResult
from config.settings import Settings
from db import inbox_snooze as store
from db.inbox import inbox_counts
from db.inbox_events import append_event
from domain.inbox import InboxChange, InboxEventKind, InboxMessage, InboxRecipient
from domain.inbox_snooze import SnoozeWakeUp, outlives_message, snooze_problem
from services.errors import NotFound, invalid_field
from services.inbox import public_counts, public_message
from temporal_clients.inbox_snooze import end_wake_up, start_wake_up


async def snooze(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    recipient: InboxRecipient,
    message_id: uuid.UUID,
    until: datetime,
) -> SnoozeResult:
    """POST /v1/inbox/messages/{id}/snooze: hide the message until `until`; snoozing it again
    moves its return to the new time."""
    now = datetime.now(UTC)
    shortest = timedelta(seconds=settings.inbox_min_snooze_seconds)
    if problem := snooze_problem(until, now, shortest):
        raise invalid_field("until", problem)
    async with session.begin():
        message = await _own_message(session, recipient, message_id)
        if problem := outlives_message(until, message.expires_at):
            raise invalid_field("until", problem)
        message = await store.set_snoozed_until(session, recipient.recipient_id, message_id, until)
        await _record(session, recipient, InboxChange.SNOOZED, message, now)
        wake = SnoozeWakeUp(recipient.tenant_id, recipient.recipient_id, message_id, until)
        await start_wake_up(temporal, settings, wake)
        counts = await inbox_counts(session, recipient.recipient_id)
    return SnoozeResult(message=public_message(message), counts=public_counts(counts))


async def unsnooze(
    session: AsyncSession, temporal: Client, recipient: InboxRecipient, message_id: uuid.UUID
) -> SnoozeResult:
    """POST /v1/inbox/messages/{id}/unsnooze: the message returns now. One not snoozed stays
    as it is, and no event is recorded."""
    now = datetime.now(UTC)
    async with session.begin():
        message = await _own_message(session, recipient, message_id)
        # A snooze whose time has passed but whose wake-up has not run yet ends here too.
        snoozed = message.snoozed_until is not None
        if snoozed:
            message = await store.set_snoozed_until(
                session, recipient.recipient_id, message_id, None
            )
            await _record(session, recipient, InboxChange.UNSNOOZED, message, now)
        counts = await inbox_counts(session, recipient.recipient_id)
    if snoozed:
        # After the commit, and only to tidy up (best effort): a wake-up left waiting finds no
        # snooze at its time and does nothing.
        await end_wake_up(temporal, message_id)
    return SnoozeResult(message=public_message(message), counts=public_counts(counts))


async def _own_message(
    session: AsyncSession, recipient: InboxRecipient, message_id: uuid.UUID
) -> InboxMessage:
    message = await store.lock_message(session, recipient.recipient_id, message_id)
    if message is None:
        raise NotFound(f"message {message_id} not found", "message_id")
    return message


async def _record(
    session: AsyncSession,
    recipient: InboxRecipient,
    change: InboxChange,
    message: InboxMessage,
    now: datetime,
) -> None:
    """The change's `messages.updated` event. It carries the message too: another tab learns
    when it will return (snoozed), or can show it again without a refetch (unsnoozed)."""
    await append_event(
        session,
        recipient.tenant_id,
        recipient.recipient_id,
        InboxEventKind.UPDATED,
        {
            "ids": [str(message.id)],
            "change": change.value,
            "at": now.isoformat(),
            "message": message.as_json(),
        },
    )
