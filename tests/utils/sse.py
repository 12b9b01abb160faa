"""A server-sent events client for tests: what a stream sends, parsed as EventSource would, in
the order it arrived."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Sent:
    """One event (`kind` the `event:` field), or one comment line (`comment`)."""

    kind: str | None = None
    id: int | None = None
    data: Any = None
    comment: str | None = None


class EventStream:
    def __init__(self, response: httpx.Response):
        self.response = response
        self.received: list[Sent] = []
        self.ended = asyncio.Event()
        self._arrived = asyncio.Event()
        self._read = 0  # how many of `received` next() has handed out
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line.startswith(":"):
                    self._add(Sent(comment=line[1:].strip()))
                elif line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                elif fields:
                    self._add(
                        Sent(
                            kind=fields.get("event", "message"),
                            id=int(fields["id"]) if "id" in fields else None,
                            data=json.loads(fields["data"]) if "data" in fields else None,
                        )
                    )
                    fields = {}
        except (httpx.ReadError, httpx.RemoteProtocolError):
            pass  # the server went away: the stream has ended
        finally:
            self.ended.set()
            self._arrived.set()

    def _add(self, sent: Sent) -> None:
        self.received.append(sent)
        self._arrived.set()

    @property
    def events(self) -> list[Sent]:
        return [s for s in self.received if s.comment is None]

    async def next(self, timeout: float = 10.0, heartbeats: bool = False) -> Sent:
        """The next event not handed out yet (comments too, with `heartbeats`)."""
        async with asyncio.timeout(timeout):
            while True:
                while self._read < len(self.received):
                    sent = self.received[self._read]
                    self._read += 1
                    if heartbeats or sent.comment is None:
                        return sent
                if self.ended.is_set():
                    raise AssertionError(f"the stream ended; it sent {self.received}")
                self._arrived.clear()
                await self._arrived.wait()

    async def wait_ended(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self.ended.wait()


@asynccontextmanager
async def event_stream(
    client: httpx.AsyncClient, url: str, **request: Any
) -> AsyncIterator[EventStream]:
    """GET `url` as a stream (200 and text/event-stream asserted), collected in the background."""
    async with client.stream(
        "GET", url, timeout=httpx.Timeout(10, read=None), **request
    ) as response:
        if response.status_code != 200:
            await response.aread()
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        try:
            yield stream
        finally:
            stream._task.cancel()
