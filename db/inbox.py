"""The inbox's SQL: a recipient's in-app messages, the feed's filters and the counts.

A message is in the feed when it is not archived, has not expired and is not snoozed (a snooze
that has passed counts as over: the feed never waits for the wake-up to clear it).
"""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inbox import InboxCounts

# Not expired, not snoozed; archived messages are a separate view (GET /v1/inbox?archived=true).
LIVE = (
    "(expires_at IS NULL OR expires_at > now())"
    " AND (snoozed_until IS NULL OR snoozed_until <= now())"
)
IN_FEED = f"archived_at IS NULL AND {LIVE}"

_COUNTS = text(f"""
    SELECT count(*) AS total,
           count(*) FILTER (WHERE read_at IS NULL) AS unread,
           count(*) FILTER (WHERE seen_at IS NULL) AS unseen
    FROM in_app_messages
    WHERE recipient_id = :recipient_id AND {IN_FEED}
""")


async def inbox_counts(session: AsyncSession, recipient_id: uuid.UUID) -> InboxCounts:
    row = (await session.execute(_COUNTS, {"recipient_id": recipient_id})).one()
    return InboxCounts(total=row.total, unread=row.unread, unseen=row.unseen)
