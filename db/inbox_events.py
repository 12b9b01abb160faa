"""The inbox's event log: every change to a recipient's inbox, numbered, and announced.

`append_event` runs inside the transaction that made the change, so the event exists exactly when
the change does. It numbers the event from the recipient's row in `inbox_cursors`, whose row lock
makes a recipient's numbers follow commit order (a reader that has seen event n never later finds
an n-1 it missed), and calls `pg_notify`, which PostgreSQL delivers at commit to every API process
LISTENing on INBOX_CHANNEL: that is how a stream on any process learns of a change made anywhere.
The notification carries only the recipient and the number; listeners read the event itself.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.inbox import COUNT_COLUMNS, IN_FEED, inbox_counts
from domain.inbox import InboxEventKind

INBOX_CHANNEL = "herald_inbox"


@dataclass(frozen=True)
class StoredInboxEvent:
    seq: int
    kind: str
    data: dict[str, Any]
    created_at: datetime


_NEXT_SEQ = text("""
    INSERT INTO inbox_cursors (recipient_id, last_seq) VALUES (:recipient_id, 1)
    ON CONFLICT (recipient_id) DO UPDATE SET last_seq = inbox_cursors.last_seq + 1
    RETURNING last_seq
""")
_INSERT = text("""
    INSERT INTO inbox_events (recipient_id, seq, tenant_id, kind, data)
    VALUES (:recipient_id, :seq, :tenant_id, :kind, CAST(:data AS jsonb))
""")
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


async def append_event(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    kind: InboxEventKind,
    data: dict[str, Any],
) -> int:
    """Record one change (its data gains the recipient's counts after it) and announce it at
    commit; returns the event's number."""
    seq = (await session.execute(_NEXT_SEQ, {"recipient_id": recipient_id})).scalar_one()
    counts = await inbox_counts(session, recipient_id)
    await session.execute(
        _INSERT,
        {
            "recipient_id": recipient_id,
            "seq": seq,
            "tenant_id": tenant_id,
            "kind": kind.value,
            "data": json.dumps({**data, "counts": counts.as_json()}),
        },
    )
    await session.execute(_NOTIFY, {"channel": INBOX_CHANNEL, "payload": f"{recipient_id}:{seq}"})
    return int(seq)


def _iso(column: str) -> str:
    """A timestamptz as `InboxMessage.as_json` writes it (Python's isoformat, in UTC): no
    fraction when it is a whole second; NULL stays NULL."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN extract(microseconds FROM {column}) % 1000000 = 0 THEN ''"
        f" ELSE to_char({utc}, '.US') END || '+00:00'"
    )


# The `message.created` event of each new in-app message, built where the messages are: a
# broadcast's page appends hundreds at once, and reading them back into Python only to write
# them out again as JSON cost the worker more than the page's own rows did. Each recipient's
# cursor advances by its number of new messages, in recipient id order (two bulk appends lock
# the cursors they share in the same order, so they take turns, never deadlock); its events
# are numbered in message id order. The counts see the messages the transaction just wrote.
# `= ANY(ARRAY(...))`, not `IN (...)`: an array is looked up in the index, where a semi-join
# on a set of unknown size was planned as a scan of every message (4x PostgreSQL's time).
# The same event as `append_event` writes for one (InboxMessage.as_json, InboxCounts.as_json).
_APPEND_CREATED = text(f"""
    WITH m AS (
        SELECT * FROM in_app_messages
        WHERE id = ANY(ARRAY(
            SELECT CAST(value AS uuid) FROM json_array_elements_text(CAST(:ids AS json))
        ))
    ),
    added AS (SELECT recipient_id, count(*) AS added FROM m GROUP BY recipient_id),
    cursors AS (
        INSERT INTO inbox_cursors (recipient_id, last_seq)
        SELECT recipient_id, added FROM added ORDER BY recipient_id
        ON CONFLICT (recipient_id)
        DO UPDATE SET last_seq = inbox_cursors.last_seq + excluded.last_seq
        RETURNING recipient_id, last_seq
    ),
    counts AS (
        SELECT recipient_id, {COUNT_COLUMNS} FROM in_app_messages
        WHERE recipient_id = ANY(ARRAY(SELECT recipient_id FROM added)) AND {IN_FEED}
        GROUP BY recipient_id
    ),
    events AS (
        INSERT INTO inbox_events (recipient_id, seq, tenant_id, kind, data)
        SELECT m.recipient_id,
               c.last_seq - a.added + row_number() OVER (PARTITION BY m.recipient_id ORDER BY m.id),
               :tenant_id, :kind,
               jsonb_build_object(
                   'message', jsonb_build_object(
                       'id', m.id, 'notification_id', m.notification_id, 'title', m.title,
                       'body', m.body, 'action_url', m.action_url, 'priority', m.priority,
                       'category', m.category, 'tags', to_jsonb(coalesce(m.tags, '{{}}')),
                       'created_at', {_iso("m.created_at")}, 'read_at', {_iso("m.read_at")},
                       'seen_at', {_iso("m.seen_at")}, 'archived_at', {_iso("m.archived_at")},
                       'snoozed_until', {_iso("m.snoozed_until")},
                       'expires_at', {_iso("m.expires_at")}),
                   'counts', jsonb_build_object(
                       'total', coalesce(n.total, 0), 'unread', coalesce(n.unread, 0),
                       'unseen', coalesce(n.unseen, 0)))
        FROM m
        JOIN added a USING (recipient_id)
        JOIN cursors c USING (recipient_id)
        LEFT JOIN counts n USING (recipient_id)
        RETURNING recipient_id, seq
    )
    SELECT count(pg_notify(:channel, recipient_id || ':' || seq)) FROM events
""")


async def append_created_events(
    session: AsyncSession, tenant_id: uuid.UUID, message_ids: list[uuid.UUID]
) -> int:
    """`append_event` of `message.created` for each of these in-app messages, just written in
    this transaction (a broadcast's page): the same events and announcements, in one statement
    however many; returns how many were appended."""
    if not message_ids:
        return 0
    appended = await session.execute(
        _APPEND_CREATED,
        {
            "ids": json.dumps([str(i) for i in message_ids]),
            "tenant_id": tenant_id,
            "kind": InboxEventKind.CREATED.value,
            "channel": INBOX_CHANNEL,
        },
    )
    return int(appended.scalar_one())


_AFTER = text("""
    SELECT seq, kind, data, created_at FROM inbox_events
    WHERE recipient_id = :recipient_id AND seq > :after
    ORDER BY seq LIMIT :limit
""")


async def events_after(
    session: AsyncSession, recipient_id: uuid.UUID, after: int, limit: int = 500
) -> list[StoredInboxEvent]:
    rows = await session.execute(
        _AFTER, {"recipient_id": recipient_id, "after": after, "limit": limit}
    )
    return [StoredInboxEvent(r.seq, r.kind, r.data, r.created_at) for r in rows]


_LAST_SEQ = text("SELECT last_seq FROM inbox_cursors WHERE recipient_id = :recipient_id")


async def last_event_number(session: AsyncSession, recipient_id: uuid.UUID) -> int:
    """0 when the recipient's inbox has never changed."""
    value = (await session.execute(_LAST_SEQ, {"recipient_id": recipient_id})).scalar_one_or_none()
    return int(value or 0)
