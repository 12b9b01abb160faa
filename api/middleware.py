"""ASGI middleware around every request: the body size limit and the request metrics.

Plain ASGI rather than BaseHTTPMiddleware, whose extra task and streams per request cost
about a millisecond of CPU (py-spy, make bench)."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem_response
from api.schemas.problems import FieldProblem
from observability.metrics import HTTP_REQUESTS, HTTP_SECONDS, method_label

# POST /v1/broadcasts lists up to 10,000 external ids of up to 255 characters each.
BROADCAST_MAX_BYTES = 4 * 1024 * 1024


class BodySizeLimit:
    """413 for a body over the limit, whether its Content-Length declares it or it streams in
    chunks without one.

    The body is read here, before the app sees any of it: the app's own body parser turns an
    exception raised from inside `receive` into a 400 ("error parsing the body"), so a limit
    enforced there could not answer 413. Every route reads its whole body anyway."""

    def __init__(self, app: ASGIApp, max_bytes: int, webhook_max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        # A provider's event batch is larger than any API request; refusing it would make
        # the provider retry it forever.
        self.webhook_max_bytes = webhook_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(scope, receive, send, limit)
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it
                return await self.app(scope, _replay(message, receive), send)
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                return await self._refuse(scope, receive, send, limit)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(body, receive), send)

    def _limit(self, path: str) -> int:
        if path.startswith("/v1/webhooks/"):
            return self.webhook_max_bytes
        if path == "/v1/broadcasts":  # up to 10,000 listed recipients' ids
            return max(self.max_bytes, BROADCAST_MAX_BYTES)
        return self.max_bytes

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = f"body: request body is larger than {limit} bytes"
        problem = FieldProblem(field="body", problem=f"is larger than {limit} bytes")
        await problem_response(413, "payload_too_large", detail, [problem])(scope, receive, send)


def _replay(first: Message, receive: Receive) -> Receive:
    """A `receive` that hands out the message already read, then whatever the client sends
    next (a disconnect, which streaming responses listen for)."""
    pending = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class RequestMetrics:
    """Plain ASGI rather than BaseHTTPMiddleware, whose extra task and streams per request
    cost about a millisecond of CPU (py-spy, make bench)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # if the app fails before it answers

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            # The route template (/v1/notifications/{notification_id}), never the raw path:
            # ids in label values would grow the metric without bound.
            route = getattr(scope.get("route"), "path", "unmatched")
            method = method_label(scope["method"])
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)
