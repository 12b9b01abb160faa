"""The inbox's SQL: a recipient's in-app messages, the feed's filters and the counts.

A message is in the feed when it is not archived, has not expired and is not snoozed (a snooze
that has passed counts as over: the feed never waits for the wake-up to clear it). Every query
names the recipient and its tenant, so no filter can reach another recipient's messages.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.filters import InboxFilter
from domain.inbox import InboxChange, InboxCounts, InboxMessage

NOT_EXPIRED = "(expires_at IS NULL OR expires_at > now())"
NOT_SNOOZED = "(snoozed_until IS NULL OR snoozed_until <= now())"
# Not expired, not snoozed; archived messages are a separate view (GET /v1/inbox?archived=true).
LIVE = f"{NOT_EXPIRED} AND {NOT_SNOOZED}"
IN_FEED = f"archived_at IS NULL AND {LIVE}"

COUNT_COLUMNS = """count(*) AS total,
    count(*) FILTER (WHERE read_at IS NULL) AS unread,
    count(*) FILTER (WHERE seen_at IS NULL) AS unseen"""
_COUNTS = text(f"""
    SELECT {COUNT_COLUMNS} FROM in_app_messages
    WHERE recipient_id = :recipient_id AND {IN_FEED}
""")


async def inbox_counts(session: AsyncSession, recipient_id: uuid.UUID) -> InboxCounts:
    """The feed's counts (what the badge shows)."""
    return await _counts(session, _COUNTS, {"recipient_id": recipient_id})


async def _counts(session: AsyncSession, statement: Any, params: dict[str, Any]) -> InboxCounts:
    row = (await session.execute(statement, params)).one()
    return InboxCounts(total=row.total, unread=row.unread, unseen=row.unseen)


MESSAGE_COLUMNS = (
    "id, notification_id, title, body, action_url, priority, category, tags, created_at,"
    " read_at, seen_at, archived_at, snoozed_until, expires_at"
)


def _matching(
    recipient_id: uuid.UUID, tenant_id: uuid.UUID, where: InboxFilter
) -> tuple[str, dict[str, Any]]:
    """The conditions (SQL) and their parameters selecting a recipient's messages by a filter."""
    conditions = [
        "recipient_id = :recipient_id",
        "tenant_id = :tenant_id",
        NOT_EXPIRED,
        "archived_at IS NOT NULL" if where.archived else "archived_at IS NULL",
        "snoozed_until > now()" if where.snoozed else NOT_SNOOZED,
    ]
    params: dict[str, Any] = {"recipient_id": recipient_id, "tenant_id": tenant_id}
    if where.read is not None:
        conditions.append("read_at IS NOT NULL" if where.read else "read_at IS NULL")
    if where.priority is not None:
        conditions.append("priority = :priority")
        params["priority"] = where.priority
    if where.category is not None:
        conditions.append("category = :category")
        params["category"] = where.category
    if where.tags:
        conditions.append("tags @> CAST(:tags AS text[])")
        params["tags"] = list(where.tags)
    return " AND ".join(conditions), params


async def list_messages(
    session: AsyncSession,
    recipient_id: uuid.UUID,
    tenant_id: uuid.UUID,
    where: InboxFilter,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[InboxMessage]:
    """Newest first, keyset-paginated on (created_at, id) after the previous page's last row:
    messages added meanwhile come before the first page, never into a later one."""
    conditions, params = _matching(recipient_id, tenant_id, where)
    if after is not None:
        conditions += " AND (created_at, id) < (:after_created, :after_id)"
        params |= {"after_created": after[0], "after_id": after[1]}
    statement = text(f"""
        SELECT {MESSAGE_COLUMNS} FROM in_app_messages
        WHERE {conditions}
        ORDER BY created_at DESC, id DESC
        LIMIT :limit
    """)
    rows = await session.execute(statement, params | {"limit": limit})
    return [InboxMessage(**row._asdict()) for row in rows]


async def count_messages(
    session: AsyncSession, recipient_id: uuid.UUID, tenant_id: uuid.UUID, where: InboxFilter
) -> InboxCounts:
    """The counts over the messages a filter lists (uncapped)."""
    conditions, params = _matching(recipient_id, tenant_id, where)
    statement = text(f"SELECT {COUNT_COLUMNS} FROM in_app_messages WHERE {conditions}")
    return await _counts(session, statement, params)


# What each change sets, and which messages it would change (the others are already so): a
# message is changed, and reported as changed, at most once. Reading a message has seen it too.
_CHANGES = {
    InboxChange.READ: ("read_at = :now, seen_at = coalesce(seen_at, :now)", "read_at IS NULL"),
    InboxChange.UNREAD: ("read_at = NULL", "read_at IS NOT NULL"),
    InboxChange.SEEN: ("seen_at = :now", "seen_at IS NULL"),
    InboxChange.ARCHIVED: ("archived_at = :now", "archived_at IS NULL"),
    InboxChange.UNARCHIVED: ("archived_at = NULL", "archived_at IS NOT NULL"),
}


async def change_messages(
    session: AsyncSession,
    recipient_id: uuid.UUID,
    tenant_id: uuid.UUID,
    change: InboxChange,
    now: datetime,
    ids: list[uuid.UUID] | None = None,
    where: InboxFilter | None = None,
) -> list[uuid.UUID]:
    """Apply `change` to the recipient's messages with these ids (unexpired ones, whatever the
    view they are in), or to those the filter lists; returns the ids it changed, in id order.

    The rows are locked in id order before the update, so two bulk changes of one inbox at once
    take turns instead of deadlocking."""
    assignment, unchanged = _CHANGES[change]
    if ids is not None:
        conditions = f"recipient_id = :recipient_id AND tenant_id = :tenant_id AND {NOT_EXPIRED}"
        conditions += " AND id = ANY(:ids)"
        params: dict[str, Any] = {"recipient_id": recipient_id, "tenant_id": tenant_id, "ids": ids}
    else:
        conditions, params = _matching(recipient_id, tenant_id, where or InboxFilter())
    statement = text(f"""
        WITH target AS (
            SELECT id FROM in_app_messages
            WHERE {conditions} AND {unchanged}
            ORDER BY id
            FOR UPDATE
        )
        UPDATE in_app_messages m SET {assignment}
        FROM target WHERE m.id = target.id
        RETURNING m.id
    """)
    rows = await session.execute(statement, params | {"now": now})
    return sorted(row.id for row in rows)


_DELETE_READ = text("""
    DELETE FROM in_app_messages
    WHERE recipient_id = :recipient_id AND tenant_id = :tenant_id AND read_at IS NOT NULL
    RETURNING id
""")


async def delete_read_messages(
    session: AsyncSession, recipient_id: uuid.UUID, tenant_id: uuid.UUID
) -> list[uuid.UUID]:
    """Every read message of the recipient, whichever view it is in; returns their ids."""
    rows = await session.execute(
        _DELETE_READ, {"recipient_id": recipient_id, "tenant_id": tenant_id}
    )
    return sorted(row.id for row in rows)


_ONE = text(f"""
    SELECT {MESSAGE_COLUMNS} FROM in_app_messages
    WHERE id = :id AND recipient_id = :recipient_id AND tenant_id = :tenant_id AND {NOT_EXPIRED}
""")


async def get_message(
    session: AsyncSession, recipient_id: uuid.UUID, tenant_id: uuid.UUID, message_id: uuid.UUID
) -> InboxMessage | None:
    """One of the recipient's unexpired messages; None if there is none with this id."""
    row = (
        await session.execute(
            _ONE, {"id": message_id, "recipient_id": recipient_id, "tenant_id": tenant_id}
        )
    ).one_or_none()
    return None if row is None else InboxMessage(**row._asdict())
