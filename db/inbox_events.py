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

from db.inbox import inbox_counts, inbox_counts_of
from domain.inbox import InboxCounts, InboxEventKind

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


@dataclass(frozen=True)
class NewInboxEvent:
    """One change to append with `append_events`."""

    recipient_id: uuid.UUID
    kind: InboxEventKind
    data: dict[str, Any]


# Each recipient's cursor advanced by its number of new events, in recipient id order: two bulk
# appends lock the cursors they share in the same order, so they take turns, never deadlock.
# The rows come as one JSON text: psycopg adapts a long array element by element, slower.
_NEXT_SEQS = text("""
    INSERT INTO inbox_cursors (recipient_id, last_seq)
    SELECT recipient_id, added
    FROM json_to_recordset(CAST(:added AS json)) AS a(recipient_id uuid, added bigint)
    ORDER BY recipient_id
    ON CONFLICT (recipient_id) DO UPDATE SET last_seq = inbox_cursors.last_seq + excluded.last_seq
    RETURNING recipient_id, last_seq
""")
_BULK_INSERT = text("""
    INSERT INTO inbox_events (recipient_id, seq, tenant_id, kind, data)
    SELECT recipient_id, seq, :tenant_id, kind, data
    FROM json_to_recordset(CAST(:events AS json))
        AS e(recipient_id uuid, seq bigint, kind text, data jsonb)
""")
_BULK_NOTIFY = text("""
    SELECT count(pg_notify(:channel, e.recipient_id || ':' || e.seq))
    FROM json_to_recordset(CAST(:events AS json)) AS e(recipient_id text, seq bigint)
""")


async def append_events(
    session: AsyncSession, tenant_id: uuid.UUID, events: list[NewInboxEvent]
) -> list[int]:
    """`append_event` for many changes at once (a broadcast's page): the same rows and
    announcements, in four statements however many recipients; returns each event's number,
    in the order given. A recipient's events are numbered in the order given too."""
    if not events:
        return []
    added: dict[uuid.UUID, int] = {}
    for event in events:
        added[event.recipient_id] = added.get(event.recipient_id, 0) + 1
    recipient_ids = sorted(added)
    counted = json.dumps([{"recipient_id": str(r), "added": added[r]} for r in recipient_ids])
    last = {
        row.recipient_id: row.last_seq
        for row in await session.execute(_NEXT_SEQS, {"added": counted})
    }
    next_seq = {r: last[r] - added[r] + 1 for r in recipient_ids}
    seqs = []
    for event in events:
        seqs.append(next_seq[event.recipient_id])
        next_seq[event.recipient_id] += 1
    counts = await inbox_counts_of(session, recipient_ids)
    no_messages = InboxCounts(0, 0, 0)
    rows = json.dumps(
        [
            {
                "recipient_id": str(e.recipient_id),
                "seq": seq,
                "kind": e.kind.value,
                "data": {**e.data, "counts": counts.get(e.recipient_id, no_messages).as_json()},
            }
            for e, seq in zip(events, seqs, strict=True)
        ]
    )
    await session.execute(_BULK_INSERT, {"tenant_id": tenant_id, "events": rows})
    await session.execute(_BULK_NOTIFY, {"channel": INBOX_CHANNEL, "events": rows})
    return seqs


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
