"""GET /v1/inbox/stream: a recipient's inbox, live, as server-sent events.

The use case is services/inbox_stream.py (what is sent, in what order); this module writes it
as `text/event-stream` and owns what belongs to the connection: a client that leaves ends its
stream, and a client that stops reading cannot make the process hold more than the transport's
buffer for it (each write waits for room, at most WRITE_TIMEOUT_SECONDS, then the connection is
dropped).
"""

import asyncio
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import InboxStreamRecipientDep, SessionsDep, SettingsDep
from services.inbox_hub import InboxHub, StreamEnd
from services.inbox_stream import (
    Ended,
    Heartbeat,
    InboxStream,
    Opening,
    StoredInboxEvent,
    StreamItem,
    open_inbox_stream,
)

log = logging.getLogger("herald.inbox")

router = APIRouter(tags=["inbox"])

# A write that finds no room for this long (the client stopped reading and the transport's
# buffer, 64 KiB, is full) ends the stream: a reading client needs a fraction of a second.
WRITE_TIMEOUT_SECONDS = 30.0
MEDIA_TYPE = "text/event-stream"
STREAM_PATH = "/v1/inbox/stream"
MAX_EVENT_ID = 2**63 - 1  # event numbers are PostgreSQL bigints
_HANDOFF = "herald.inbox_stream"  # the scope key where the route's response leaves the stream


async def get_inbox_hub(request: Request) -> InboxHub:
    return request.app.state.inbox_hub


InboxHubDep = Annotated[InboxHub, Depends(get_inbox_hub)]


def _event(kind: str, data: Any, seq: int | None = None) -> bytes:
    """One server-sent event. The data is one line of JSON (json.dumps escapes newlines), and
    always present: EventSource drops an event without a data line."""
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def encode(item: StreamItem) -> bytes:
    if isinstance(item, StoredInboxEvent):
        return _event(item.kind, item.data, item.seq)
    if isinstance(item, Opening):
        data = {"counts": item.counts.as_json(), "last_event_id": item.last_event_id}
        return _event(item.kind.value, data, item.last_event_id)
    if isinstance(item, Heartbeat):
        return b": heartbeat\n\n"
    if isinstance(item, Ended):
        if item.reason is StreamEnd.EXPIRED:
            return _event("expired", {"reason": "the token expired: reconnect with a new one"})
        if item.reason is StreamEnd.REPLACED:
            return _event("closed", {"reason": item.reason.value})
    return b""  # shutting down: the body just ends, and the client reconnects


class EventStreamResponse(Response):
    """What the route answers: the opened stream, written by `send_events`; under
    InboxStreamHandoff (api/app.py), from that middleware once the app has returned."""

    media_type = MEDIA_TYPE

    def __init__(self, stream: InboxStream, write_timeout: float = WRITE_TIMEOUT_SECONDS):
        # As StreamingResponse does: no `body`, so no Content-Length.
        self.status_code = 200
        self.background = None
        self.init_headers(
            {
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # nginx: pass each event on at once
            }
        )
        self.stream = stream
        self.write_timeout = write_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handoff = scope.get(_HANDOFF)
        start = {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
        if handoff is None:  # no InboxStreamHandoff around the app: everything from here
            await send_events(self.stream, self.write_timeout, receive, send, start)
            return
        try:  # the answer starts in here, through the app's middlewares (CORS, metrics)
            async with asyncio.timeout(self.write_timeout):
                await send(start)
        except BaseException:
            self.stream.close()
            raise
        handoff.append((self.stream, self.write_timeout))  # not the response: its headers go


async def send_events(
    stream: InboxStream,
    write_timeout: float,
    receive: Receive,
    send: Send,
    start: Message | None = None,
) -> None:
    """Writes the stream (after `start`, unless the answer has started) until it ends or the
    client leaves (a second task waits for that: Starlette's StreamingResponse would spend a
    task group and two tasks a stream)."""
    leaving = asyncio.create_task(_client_leaves(stream, receive))
    try:
        if start is not None:
            async with asyncio.timeout(write_timeout):
                await send(start)
        async for item in stream.items():
            async with asyncio.timeout(write_timeout):
                await send({"type": "http.response.body", "body": encode(item), "more_body": True})
        async with asyncio.timeout(write_timeout):
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    except TimeoutError:
        # Returning without finishing the response makes the server close the connection
        # (uvicorn logs that it was not completed): what is buffered for it is freed.
        log.warning("inbox stream: the client read nothing for %.0f s; dropped", write_timeout)
    finally:
        leaving.cancel()
        stream.close()


async def _client_leaves(stream: InboxStream, receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    stream.close()


class InboxStreamHandoff:
    """ASGI middleware, the outermost of the app's own: a stream lasts hours, and everything
    handling its request (FastAPI's routing, dependency exit stacks and exception handlers, the
    app's middlewares and their closures: ~10 KB of frames and objects) would stay alive as
    long as the response runs. So the route validates, authenticates and opens the stream,
    its response starts the answer through the middlewares (CORS headers, the metrics) and
    hands the stream over to this one; everything inside returns, and the events are written
    from here."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != STREAM_PATH:
            return await self.app(scope, receive, send)
        handed = await self._handled(scope, receive, send)
        if handed is not None:
            await send_events(*handed, receive, send)

    async def _handled(
        self, scope: Scope, receive: Receive, send: Send
    ) -> tuple[InboxStream, float] | None:
        """The app handles the request (a refusal is sent from in there, as usual), in a copy
        of the scope: FastAPI keeps per-request objects (its exit stacks) in the scope it is
        given, and the copy goes when this returns."""
        handed: list[tuple[InboxStream, float]] = []
        await self.app({**scope, _HANDOFF: handed}, receive, send)
        return handed[0] if handed else None


@router.get(
    STREAM_PATH,
    response_class=EventStreamResponse,
    status_code=200,  # the response class takes none: OpenAPI is told here
    responses={
        200: {
            "description": "Server-sent events: `ready` (or `reset`) first, then every change to "
            "the inbox as it is committed (`message.created`, `messages.updated`, "
            "`messages.deleted`, `message.returned`; `id:` its number, `data:` with `counts`), "
            "`: heartbeat` comments, and `expired` when the token does.",
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        503: {"description": "The process is stopping (`shutting_down`): connect again."},
    },
)
async def stream_inbox(
    recipient: InboxStreamRecipientDep,
    hub: InboxHubDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    last_event_id_header: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            le=MAX_EVENT_ID,
            description="The `id:` of the last event received: the stream resumes after it.",
        ),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_EVENT_ID,
            description="Last-Event-ID for the first connection of an EventSource.",
        ),
    ] = None,
) -> EventStreamResponse:
    """The recipient's inbox, live. With no Last-Event-ID, `ready` first (the counts and the
    current event number); with one, the events after it (each exactly once), or `reset` if they
    were purged. Ends with `expired` when the token expires: reconnect with a new token and the
    last id. Past MAX_STREAMS_PER_RECIPIENT (10) streams of one recipient on one process, the
    oldest ends with `closed` (do not reconnect it automatically)."""
    # The header wins: an EventSource reconnecting sends it with the newest id, while the URL
    # keeps the one it was opened with.
    after = last_event_id_header if last_event_id_header is not None else last_event_id
    stream = await open_inbox_stream(
        hub,
        sessions,
        recipient.recipient_id,
        after,
        recipient.expires_at,
        settings.inbox_stream_heartbeat_seconds,
    )
    return EventStreamResponse(stream)
