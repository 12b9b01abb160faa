"""The daily purge and the inbox: expired messages (after a grace), read messages archived long
ago, and old inbox events go; a recipient's event numbering goes on where it was."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from temporalio.client import ScheduleActionStartWorkflow

from config.settings import Settings
from db.inbox_events import append_event
from db.models import InAppMessage
from domain.inbox import InboxEventKind
from domain.maintenance import PurgeInput
from temporal_clients.maintenance import maintenance_schedules
from tests.e2e.inbox_messages import inbox_events, last_event, new_inbox, send_in_app, set_message
from workflows.maintenance import PurgeLogsWorkflow

NOW = datetime.now(UTC)
DAY = timedelta(days=1)
SEEN = {"ids": [], "change": "seen"}  # an event's data, for events that only need to exist


async def purge(stack, **retentions) -> dict[str, int]:
    """One run of the daily purge, as its Schedule starts it, in batches of 2."""
    input = PurgeInput(retention_days=90, batch_size=2, **retentions)
    result = await stack.client.execute_workflow(
        PurgeLogsWorkflow.run,
        input,
        id=f"inbox-purge-test-{uuid.uuid4()}",
        task_queue=stack.settings.task_queue,
    )
    return result.deleted


async def remaining(sessions, ids: list[str]) -> set[str]:
    async with sessions() as session:
        found = await session.scalars(
            select(InAppMessage.id).where(InAppMessage.id.in_([uuid.UUID(i) for i in ids]))
        )
        return {str(i) for i in found}


async def test_expired_messages_go_after_the_grace_and_read_archived_ones_after_the_retention(
    stack, sessions
):
    ann = await new_inbox(stack)
    ids = [await send_in_app(stack, ann.external_id) for _ in range(7)]
    expired_long_ago, expired_just_now, read_archived_long_ago = ids[:3]
    unread_archived_long_ago, read_archived_lately, read_long_ago, fresh = ids[3:]
    await set_message(sessions, expired_long_ago, expires_at=NOW - 2 * DAY)
    await set_message(sessions, expired_just_now, expires_at=NOW - timedelta(hours=1))
    await set_message(
        sessions, read_archived_long_ago, read_at=NOW - 41 * DAY, archived_at=NOW - 40 * DAY
    )
    await set_message(sessions, unread_archived_long_ago, archived_at=NOW - 40 * DAY)
    await set_message(
        sessions, read_archived_lately, read_at=NOW - 41 * DAY, archived_at=NOW - 10 * DAY
    )
    await set_message(sessions, read_long_ago, read_at=NOW - 41 * DAY)

    deleted = await purge(stack, inbox_archived_retention_days=30, inbox_expired_grace_hours=24)

    assert await remaining(sessions, ids) == {
        expired_just_now,  # within the grace
        unread_archived_long_ago,  # never read
        read_archived_lately,  # archived 10 days ago
        read_long_ago,  # still in the feed
        fresh,
    }
    assert deleted["expired_inbox_messages"] >= 1 and deleted["archived_inbox_messages"] >= 1


async def test_old_inbox_events_go_and_the_numbering_goes_on(stack, sessions):
    ann = await new_inbox(stack)
    await send_in_app(stack, ann.external_id)  # event 1: message.created
    recipient_id = uuid.UUID(ann.recipient_id)
    async with sessions.begin() as session:
        for _ in range(4):  # events 2..5
            await append_event(session, stack.tenant_id, recipient_id, InboxEventKind.UPDATED, SEEN)
        # Events 1..3 are eight days old, 4 and 5 are fresh.
        await session.execute(
            text(
                "UPDATE inbox_events SET created_at = now() - interval '8 days'"
                " WHERE recipient_id = :recipient_id AND seq <= 3"
            ),
            {"recipient_id": recipient_id},
        )

    deleted = await purge(stack, inbox_event_retention_days=7)

    left = [event.seq for event in await inbox_events(sessions, ann.recipient_id)]
    assert deleted["inbox_events"] >= 3
    assert (left, await last_event(sessions, ann.recipient_id)) == ([4, 5], 5)
    async with sessions.begin() as session:
        next_number = await append_event(
            session, stack.tenant_id, recipient_id, InboxEventKind.UPDATED, SEEN
        )
    assert next_number == 6  # not 1: a stream that saw 5 takes it as new


def test_the_daily_purge_takes_the_inbox_retentions_from_the_settings():
    settings = Settings(
        inbox_event_retention_days=3, inbox_archived_retention_days=12, inbox_expired_grace_hours=6
    )
    action = maintenance_schedules(settings)[f"herald-{settings.task_queue}-purge-logs"].action
    assert isinstance(action, ScheduleActionStartWorkflow)
    [input] = action.args
    assert isinstance(input, PurgeInput)
    assert (
        input.inbox_event_retention_days,
        input.inbox_archived_retention_days,
        input.inbox_expired_grace_hours,
    ) == (3, 12, 6)
