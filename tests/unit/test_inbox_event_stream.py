"""The inbox stream's response against a client that stops reading: once the transport's buffer
is full, uvicorn's `send` waits for room; the response waits WRITE_TIMEOUT at most, then gives
the connection up, so such a client costs the process a bounded buffer and nothing more.
(The streams themselves run against real servers in tests/e2e/test_inbox_stream.py.)"""

import asyncio
import time
from collections.abc import AsyncIterator, MutableMapping
from typing import Any, cast

from api.routes.inbox_stream import EventStreamResponse, encode
from services.inbox_stream import HEARTBEAT, InboxStream, StreamItem


class EndlessHeartbeats:
    """A stream with something to send at every turn, as a busy inbox would have."""

    def __init__(self) -> None:
        self.closed = False

    async def items(self) -> AsyncIterator[StreamItem]:
        while True:
            yield HEARTBEAT

    def close(self) -> None:
        self.closed = True


async def test_a_client_that_stops_reading_is_dropped_after_the_write_timeout():
    stream = EndlessHeartbeats()
    written: list[bytes] = []
    buffer_full = asyncio.Event()  # never set: the client reads nothing more

    async def send(message: MutableMapping[str, Any]) -> None:
        if len(written) >= 3:  # the transport's buffer is full from here on
            await buffer_full.wait()
        written.append(message.get("body", b""))

    async def receive() -> MutableMapping[str, Any]:
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    response = EventStreamResponse(cast(InboxStream, stream), write_timeout=0.3)
    started = time.monotonic()
    await asyncio.wait_for(response({"type": "http"}, receive, send), timeout=5)

    assert 0.3 <= time.monotonic() - started < 3
    assert written[1:] == [encode(HEARTBEAT)] * 2  # after the response start
    assert stream.closed  # its place in the hub is given up
