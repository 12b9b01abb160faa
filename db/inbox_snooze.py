"""The inbox's snooze SQL: lock a recipient's message, snooze it, end its snooze.

`snoozed_until` in the future hides a message from the feed and the counts (db/inbox.py's LIVE);
ending a snooze clears it, so a returned message reads as never snoozed.
"""

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.inbox import MESSAGE_COLUMNS, NOT_EXPIRED
from domain.inbox import InboxMessage

# Expired messages are hidden from their recipient: to them, such a message does not exist.
_LOCK = text(f"""
    SELECT {MESSAGE_COLUMNS} FROM in_app_messages
    WHERE id = :message_id AND recipient_id = :recipient_id AND {NOT_EXPIRED}
    FOR UPDATE
""")


async def lock_message(
    session: AsyncSession, recipient_id: uuid.UUID, message_id: uuid.UUID
) -> InboxMessage | None:
    """The recipient's message, locked until the transaction ends (a snooze and the wake-up
    of the previous one take turns); None when the recipient has no such message."""
    row = (
        await session.execute(_LOCK, {"message_id": message_id, "recipient_id": recipient_id})
    ).one_or_none()
    return None if row is None else InboxMessage(**row._asdict())


_SET = text(f"""
    UPDATE in_app_messages SET snoozed_until = :until
    WHERE id = :message_id AND recipient_id = :recipient_id
    RETURNING {MESSAGE_COLUMNS}
""")


async def set_snoozed_until(
    session: AsyncSession, recipient_id: uuid.UUID, message_id: uuid.UUID, until: datetime | None
) -> InboxMessage:
    """Snooze the message until `until`, or (None) end its snooze now."""
    row = (
        await session.execute(
            _SET, {"message_id": message_id, "recipient_id": recipient_id, "until": until}
        )
    ).one()
    return InboxMessage(**row._asdict())


# Only the snooze the wake-up was started for: one ended (unsnoozed) or replaced (snoozed again,
# to another time) meanwhile matches no row.
_END = text(f"""
    UPDATE in_app_messages SET snoozed_until = NULL
    WHERE id = :message_id AND recipient_id = :recipient_id AND snoozed_until = :until
    RETURNING {MESSAGE_COLUMNS}
""")


async def end_snooze(
    session: AsyncSession, recipient_id: uuid.UUID, message_id: uuid.UUID, until: datetime
) -> InboxMessage | None:
    """The message, back in the feed, if it was still snoozed until `until`; else None."""
    row = (
        await session.execute(
            _END, {"message_id": message_id, "recipient_id": recipient_id, "until": until}
        )
    ).one_or_none()
    return None if row is None else InboxMessage(**row._asdict())
