"""The API process's hub of live inbox streams: one LISTEN connection, fanned out by recipient.

Every change to an inbox is numbered in the event log and announced with pg_notify at commit
(db/inbox_events.py), to every API process, whichever process or worker made it. Each process
LISTENs once (db/listener.py) and wakes only its own streams of the recipient named in
the notification: a notification for a recipient with no stream here costs a dict lookup.

A wake-up carries nothing: the stream reads the events after the last one it sent from the log
(services/inbox_stream.py). So a stream's memory does not grow with the events it has not
sent yet, and a stream that missed wake-ups (this process was not listening while the
database restarted) catches up by reading: on every (re)connection of the listener, every
stream is woken.
"""

import asyncio
import logging
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from enum import StrEnum
from types import FrameType
from typing import Any

from db.inbox_events import INBOX_CHANNEL
from db.listener import LISTENING, keep_listening
from services.errors import Unavailable

log = logging.getLogger("herald.inbox")
SignalHandler = Callable[[int, FrameType | None], Any]

# A recipient's streams on one process: tabs and devices. Past the limit the OLDEST is closed
# (with `event: closed`), not the new one refused: the newest is the page the person is
# looking at, and the oldest is the likeliest to be a tab long forgotten or a connection whose
# network is gone but not yet noticed.
MAX_STREAMS_PER_RECIPIENT = 10


class StreamEnd(StrEnum):
    EXPIRED = "expired"  # the token's exp has passed
    REPLACED = "too_many_streams"  # the recipient opened a stream past the limit
    SHUTDOWN = "shutdown"  # the process is stopping: the client reconnects elsewhere
    DISCONNECTED = "disconnected"  # the client left


class Subscription:
    """One stream's place in the hub: a flag raised when its recipient's inbox changed, and the
    one future its stream waits on. (Not an asyncio.Event: one per stream, 2,000 streams, and
    an Event's waiter deque alone is larger than all of this.)"""

    __slots__ = ("ended", "key", "pending", "waiter")

    def __init__(self, key: str):
        self.key = key
        self.pending = False
        self.waiter: asyncio.Future[None] | None = None
        self.ended: StreamEnd | None = None

    def wake(self) -> None:
        self.pending = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def end(self, reason: StreamEnd) -> None:
        if self.ended is None:
            self.ended = reason
        self.wake()

    async def wait(self, deadline: float) -> bool:
        """Until woken (True: and lowers the flag) or the loop's clock reaches `deadline`."""
        if not self.pending:
            loop = asyncio.get_running_loop()
            self.waiter = loop.create_future()
            timer = loop.call_at(deadline, _time_up, self.waiter)
            try:
                await self.waiter
            finally:
                timer.cancel()
                self.waiter = None
        woken, self.pending = self.pending, False
        return woken


def _time_up(waiter: "asyncio.Future[None]") -> None:
    if not waiter.done():
        waiter.set_result(None)


class InboxHub:
    def __init__(
        self, database_url: str, max_streams_per_recipient: int = MAX_STREAMS_PER_RECIPIENT
    ):
        self._database_url = database_url
        self._max_per_recipient = max_streams_per_recipient
        # recipient id (as the notification spells it) -> its streams here, oldest first
        self._streams: dict[str, list[Subscription]] = {}
        self._listener: asyncio.Task[None] | None = None
        self.closing = False

    def subscribe(self, recipient_id: uuid.UUID) -> Subscription:
        if self.closing:
            raise Unavailable("the server is stopping: reconnect to another", code="shutting_down")
        key = str(recipient_id)
        streams = self._streams.setdefault(key, [])
        if len(streams) >= self._max_per_recipient:
            streams.pop(0).end(StreamEnd.REPLACED)
        subscription = Subscription(key)
        streams.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        streams = self._streams.get(subscription.key)
        if streams and subscription in streams:
            streams.remove(subscription)
            if not streams:
                del self._streams[subscription.key]

    def _notified(self, payload: str) -> None:
        streams = self._streams.get(payload.partition(":")[0])
        if streams:
            for subscription in streams:
                subscription.wake()

    def _wake_all(self) -> None:
        for streams in self._streams.values():
            for subscription in streams:
                subscription.wake()

    def end_streams(self) -> None:
        """Refuse new streams and end the open ones (their clients reconnect with their
        Last-Event-ID, to another process or to this one restarted)."""
        self.closing = True
        for streams in list(self._streams.values()):
            for subscription in streams:
                subscription.end(StreamEnd.SHUTDOWN)

    async def _listen(self) -> None:
        """Forever: LISTEN, wake streams per notification (`<recipient uuid>:<seq>`); on a
        lost connection, reconnect. Each (re)connection wakes every stream to read what it
        missed."""
        await keep_listening(
            self._database_url, INBOX_CHANNEL, "herald-inbox-listener", self._on_notification
        )

    def _on_notification(self, payload: str | None) -> None:
        if payload is LISTENING:
            self._wake_all()
        else:
            self._notified(payload)

    @asynccontextmanager
    async def running(self) -> AsyncIterator["InboxHub"]:
        """The listener running; on exit, every stream ended and the listener stopped."""
        self._listener = asyncio.create_task(self._listen(), name="inbox-listener")
        restore = _end_streams_on_exit_signals(self)
        try:
            yield self
        finally:
            restore()
            self.end_streams()
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener


def _end_streams_on_exit_signals(hub: InboxHub) -> Callable[[], None]:
    """Uvicorn, on SIGTERM or SIGINT, waits for every open response to finish before it runs
    the application's shutdown, and a stream never finishes by itself: without this, stopping
    the API would hang on open streams (until a platform's SIGKILL). So the signal handler
    uvicorn installed is chained: the streams end at once, then uvicorn goes on as before.
    Only where such a handler exists (uvicorn's, in its main thread); returns the undo."""
    loop = asyncio.get_running_loop()
    chained: dict[int, SignalHandler] = {}

    def make_handler(previous: SignalHandler) -> SignalHandler:
        def handler(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(hub.end_streams)
            previous(signum, frame)

        return handler

    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            previous = signal.getsignal(signum)
            if callable(previous) and previous is not signal.default_int_handler:
                signal.signal(signum, make_handler(previous))
                chained[signum] = previous
        except ValueError:  # not the main thread: no signal handlers to chain
            break

    def restore() -> None:
        for signum, previous in chained.items():
            with suppress(ValueError):
                signal.signal(signum, previous)

    return restore
