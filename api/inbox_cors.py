"""CORS for /v1/inbox/*: the inbox is called from the tenant's own pages, in browsers.

- A preflight (OPTIONS with Access-Control-Request-Method) is answered for any origin: it
  carries no token, so nothing tells which tenant it is for, and it reveals nothing.
- A real answer gets `Access-Control-Allow-Origin: <origin>` only when the origin is one of the
  tenant's allowed_origins (GET/PATCH /v1/settings/inbox). The tenant is known once the
  recipient's credentials have been checked (api/deps.py records its origins with
  `allow_origins`), which is before any answer starts, a stream's included: the header is added
  when the answer starts, so streaming answers get it too. A refusal of genuine but expired
  credentials gets it as well, so the page can read the 401 and fetch a new token.
- The widget's script, its service worker and the Web Push public key are public:
  `Access-Control-Allow-Origin: *` (PUBLIC_PATHS).
A pure ASGI middleware, not Starlette's CORSMiddleware: that one knows a fixed list of origins.
"""

from collections.abc import Iterable

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.inbox_tokens import HMAC_HEADER, RECIPIENT_HEADER, TENANT_HEADER

INBOX_PREFIX = "/v1/inbox"
WIDGET_PATH = "/v1/inbox/widget.js"
# Public: they hold nothing of a tenant's, and pages of any origin load them.
PUBLIC_PATHS = frozenset({WIDGET_PATH, "/v1/inbox/herald-sw.js", "/v1/inbox/push/public-key"})
_ALLOWED = "inbox_allowed_origins"  # in the request's state
PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a preflight's answer
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"  # PUT: /v1/inbox/devices
ALLOW_HEADERS = ", ".join(
    ["Authorization", "Content-Type", "Last-Event-ID", TENANT_HEADER, RECIPIENT_HEADER, HMAC_HEADER]
)
EXPOSE_HEADERS = "WWW-Authenticate, Retry-After"


def is_inbox_path(path: str) -> bool:
    return path == INBOX_PREFIX or path.startswith(INBOX_PREFIX + "/")


def allow_origins(request: Request, origins: Iterable[str]) -> None:
    """The origins whose pages may read this answer: the authenticated tenant's."""
    setattr(request.state, _ALLOWED, frozenset(origins))


class InboxCors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_inbox_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if (
            scope["method"] == "OPTIONS"
            and origin is not None
            and "access-control-request-method" in headers
        ):
            await _preflight(origin)(scope, receive, send)
            return
        public = scope["path"] in PUBLIC_PATHS
        # The same dict as request.state's, whichever layer creates it first.
        state = scope.setdefault("state", {})

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                if public:
                    answer["Access-Control-Allow-Origin"] = "*"
                else:
                    answer.add_vary_header("Origin")
                    if origin is not None and origin in state.get(_ALLOWED, ()):
                        answer["Access-Control-Allow-Origin"] = origin
                        answer["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _preflight(origin: str) -> Response:
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            "Vary": "Origin",
        },
    )
