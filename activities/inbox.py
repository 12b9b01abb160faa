"""The inbox's activity: a snoozed message's return (workflows/inbox_snooze.py)."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.bookkeeping import bookkeeping_step
from db.inbox_events import append_event
from db.inbox_snooze import end_snooze
from domain.inbox import InboxEventKind
from domain.inbox_snooze import SnoozeWakeUp


class InboxActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    @activity.defn(name="return_snoozed_message")
    @bookkeeping_step
    async def return_snoozed_message(self, wake: SnoozeWakeUp) -> bool:
        """End the snooze and tell the recipient's open inboxes (`message.returned`, with the
        message), in one transaction; False when the message is no longer snoozed until that
        time (unsnoozed, snoozed again, deleted): then nothing changes. A retry after the
        commit finds it returned already and changes nothing either."""
        async with self._sessions.begin() as session:
            message = await end_snooze(session, wake.recipient_id, wake.message_id, wake.until)
            if message is None:
                return False
            await append_event(
                session,
                wake.tenant_id,
                wake.recipient_id,
                InboxEventKind.RETURNED,
                {"message": message.as_json()},
            )
        return True
