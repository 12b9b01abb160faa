"""ASGI middleware around every request: the body size limit and the request metrics.

Plain ASGI rather than BaseHTTPMiddleware, whose extra task and streams per request cost
about a millisecond of CPU (py-spy, make bench)."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem_response
from api.schemas.problems import FieldProblem
from observability.metrics import HTTP_REQUESTS, HTTP_SECONDS, method_label


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, webhook_max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        # A provider's event batch is larger than any API request; refusing it would make
        # the provider retry it forever.
        self.webhook_max_bytes = webhook_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = (
            self.webhook_max_bytes if scope["path"].startswith("/v1/webhooks/") else self.max_bytes
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(scope, receive, send, limit)
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = f"body: request body is larger than {limit} bytes"
        problem = FieldProblem(field="body", problem=f"is larger than {limit} bytes")
        await problem_response(413, "payload_too_large", detail, [problem])(scope, receive, send)


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
