"""One live inbox stream (GET /v1/inbox/stream): what it sends, in order, exactly once.

A stream remembers one number, the last event it sent. Woken by the hub (services/inbox_hub.py)
when its recipient's inbox changed, it reads the events after that number from the event log
(db/inbox_events.py) and sends them; so events arrive in order and exactly once whether they
were announced once, twice or not at all (the listener was reconnecting), and a client that
reconnects with its Last-Event-ID, to any process, resumes exactly where it was.

What the stream yields, the route writes as server-sent events:
- `Opening` first: `ready` on a fresh connection (the counts and the current number), or
  `reset` when the events the client asked for no longer exist (purged, or a number this
  inbox never reached): the client refetches and continues from the number given;
- each `StoredInboxEvent` after it; `HEARTBEAT` whenever nothing was sent for
  INBOX_STREAM_HEARTBEAT_SECONDS (proxies close idle connections);
- `Ended` last: the token expired, the recipient opened too many streams, or the process is
  stopping. A client that disconnects ends it silently.
"""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.inbox import inbox_counts
from db.inbox_events import StoredInboxEvent as StoredInboxEvent  # what streams carry
from db.inbox_events import events_after, last_event_number
from db.session import autocommit
from domain.inbox import InboxCounts
from services.inbox_hub import InboxHub, StreamEnd, Subscription

log = logging.getLogger("herald.inbox")

READ_BATCH = 500  # events read per query while catching up
READ_RETRY_SECONDS = 2.0  # after a failed read (the database restarting), try again this soon


class OpeningKind(StrEnum):
    READY = "ready"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class Opening:
    kind: OpeningKind
    last_event_id: int
    counts: InboxCounts


class Heartbeat:
    pass


HEARTBEAT = Heartbeat()


@dataclass(frozen=True, slots=True)
class Ended:
    reason: StreamEnd


StreamItem = Opening | StoredInboxEvent | Heartbeat | Ended


class InboxStream:
    """Opened by `open_inbox_stream`; iterate `items()` once; `close()` when the client left."""

    def __init__(
        self,
        hub: InboxHub,
        sessions: async_sessionmaker[AsyncSession],
        subscription: Subscription,
        recipient_id: uuid.UUID,
        after: int,
        behind: bool,
        opening: Opening | None,
        expires_at: datetime | None,
        heartbeat_seconds: float,
    ):
        self._hub = hub
        self._sessions = sessions
        self._subscription = subscription
        self._recipient_id = recipient_id
        self._last = after
        self._behind = behind  # events after `after` were committed before the opening read
        self._opening = opening
        self._expires_at = expires_at
        self._heartbeat_seconds = heartbeat_seconds

    def close(self) -> None:
        self._subscription.end(StreamEnd.DISCONNECTED)
        self._hub.unsubscribe(self._subscription)

    async def items(self) -> AsyncIterator[StreamItem]:
        loop = asyncio.get_running_loop()
        subscription = self._subscription
        expiry = (
            loop.time() + (self._expires_at - datetime.now(UTC)).total_seconds()
            if self._expires_at
            else float("inf")
        )
        try:
            if self._opening:
                yield self._opening
            next_heartbeat = loop.time() + self._heartbeat_seconds
            retry_at: float | None = None
            # At once only to replay: a change after the opening read raised the flag (the
            # hub was joined before it), so waiting cannot miss it.
            read = self._behind
            while True:
                if subscription.ended:
                    if subscription.ended is not StreamEnd.DISCONNECTED:
                        yield Ended(subscription.ended)
                    return
                if read:
                    try:
                        async for item in self._catch_up():
                            yield item
                            next_heartbeat = loop.time() + self._heartbeat_seconds
                        retry_at = None
                    except Exception as error:  # the stream outlives an outage
                        log.warning("inbox stream: reading events failed: %s", error)
                        retry_at = loop.time() + READ_RETRY_SECONDS
                if loop.time() >= expiry:
                    subscription.end(StreamEnd.EXPIRED)
                    continue
                # Woken, the flag is lowered before reading: a change during the read wakes again.
                read = await subscription.wait(min(next_heartbeat, expiry, retry_at or expiry))
                if not read:
                    now = loop.time()
                    read = retry_at is not None and now >= retry_at
                    if now >= next_heartbeat:
                        yield HEARTBEAT
                        next_heartbeat = now + self._heartbeat_seconds
        finally:
            self._hub.unsubscribe(subscription)

    async def _catch_up(self) -> AsyncIterator[StreamItem]:
        """The events after the last one sent, in order. The session is closed before each
        batch is yielded: a client slow to read never holds a database connection."""
        while True:
            async with autocommit(self._sessions) as session:
                events = await events_after(session, self._recipient_id, self._last, READ_BATCH)
                gap = bool(events) and events[0].seq != self._last + 1
                opening = await _reset(session, self._recipient_id) if gap else None
            if opening:  # purged while this stream lagged behind: the client refetches
                self._last = opening.last_event_id
                yield opening
                continue
            for event in events:
                self._last = event.seq
                yield event
            if len(events) < READ_BATCH:
                return


async def open_inbox_stream(
    hub: InboxHub,
    sessions: async_sessionmaker[AsyncSession],
    recipient_id: uuid.UUID,
    last_event_id: int | None,
    expires_at: datetime | None,
    heartbeat_seconds: float,
) -> InboxStream:
    """Joins the hub first, then reads where to start: a change committed in between wakes
    the stream, which then reads it; none is missed. Raises Unavailable if the process is
    stopping; database errors propagate (503) before anything is sent."""
    subscription = hub.subscribe(recipient_id)
    try:
        async with autocommit(sessions) as session:
            after, last, opening = await _starting_point(session, recipient_id, last_event_id)
    except BaseException:
        hub.unsubscribe(subscription)
        raise
    return InboxStream(
        hub,
        sessions,
        subscription,
        recipient_id,
        after,
        after < last,
        opening,
        expires_at,
        heartbeat_seconds,
    )


async def _starting_point(
    session: AsyncSession, recipient_id: uuid.UUID, last_event_id: int | None
) -> tuple[int, int, Opening | None]:
    """The number to read after, the newest number, and the opening event, if any."""
    # The number first, then the counts: every event up to the number is committed before the
    # counts are read, so they include it; any later change comes as an event with its own.
    last = await last_event_number(session, recipient_id)
    if last_event_id is None:
        ready = Opening(OpeningKind.READY, last, await inbox_counts(session, recipient_id))
        return last, last, ready
    if last_event_id > last:  # a number this inbox never reached (another database?)
        return last, last, await _reset(session, recipient_id, last)
    if last_event_id < last:
        following = await events_after(session, recipient_id, last_event_id, limit=1)
        if not following or following[0].seq != last_event_id + 1:  # purged
            return last, last, await _reset(session, recipient_id, last)
    return last_event_id, last, None


async def _reset(
    session: AsyncSession, recipient_id: uuid.UUID, last: int | None = None
) -> Opening:
    if last is None:
        last = await last_event_number(session, recipient_id)
    return Opening(OpeningKind.RESET, last, await inbox_counts(session, recipient_id))
