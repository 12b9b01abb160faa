"""Who is asking on a dashboard page, what they may do, and CSRF: the dashboard's access.

Every router listed in web/routes/__init__.py ROUTERS is mounted with `check_csrf` as its
dependency (mount_dashboard), so every request that changes something carries the browser's
token. On a route:
    operator: CurrentOperator     any signed-in operator (else 303 to the login page)
    operator: EditorOperator      editors and owners (a viewer gets the 403 page)
    operator: OwnerOperator       owners only
Templates get the form's token from `csrf_token(request)` (web.templating puts it in every
page's context): a form sends it in the field `csrf_token`, htmx in the header `X-CSRF-Token`.
`install_access(app, ...)` installs the handlers of the refusals below.

The session cookie holds a random token and its HMAC (domain.operators.signed_session), HttpOnly,
SameSite=Lax, and Secure with the `__Host-` prefix when PUBLIC_BASE_URL is https; the session's
row (services/operator_sessions.py) says whether it still lasts."""

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import Settings
from domain import operators as rules
from domain.operators import Operator, Role
from services.operator_sessions import session_operator

LOGIN_PATH = "/dashboard/login"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def _secure(settings: Settings) -> bool:
    return settings.public_base_url.lower().startswith("https://")


def session_cookie_name(settings: Settings) -> str:
    # __Host-: the browser keeps it only if Secure, Path=/ and no Domain, so no subdomain can
    # set or overwrite it.
    return "__Host-herald_session" if _secure(settings) else "herald_session"


def _anonymous_cookie_name(settings: Settings) -> str:
    return "__Host-herald_csrf" if _secure(settings) else "herald_csrf"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _key(request: Request) -> bytes:
    return _settings(request).signing_key()


def session_token_of(request: Request) -> str | None:
    """The session token of the request's cookie, if Herald signed it (whether the session
    still lasts is the database's to say)."""
    cookie = request.cookies.get(session_cookie_name(_settings(request)))
    return rules.session_token(_key(request), cookie) if cookie else None


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page, and back here after it."""

    def __init__(self, next_path: str):
        self.next_path = next_path


class RoleRequired(Exception):
    def __init__(self, operator: Operator, needed: Role):
        self.operator, self.needed = operator, needed


class CsrfRefused(Exception):
    pass


async def current_operator(request: Request) -> Operator:
    """The signed-in operator; LoginRequired (a 303 to the login page) without a live session."""
    known: Operator | None = getattr(request.state, "operator", None)
    if known is not None:
        return known
    token = session_token_of(request)
    operator = await session_operator(request.app.state.sessions, token) if token else None
    if operator is None:
        raise LoginRequired(_here(request))
    request.state.operator = operator
    return operator


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


CurrentOperator = Annotated[Operator, Depends(current_operator)]


def require_role(needed: Role) -> Callable[..., Awaitable[Operator]]:
    """A dependency: the signed-in operator, if their role allows what `needed` may do."""

    async def operator_with_role(operator: CurrentOperator) -> Operator:
        if not operator.role.allows(needed):
            raise RoleRequired(operator, needed)
        return operator

    return operator_with_role


EditorOperator = Annotated[Operator, Depends(require_role(Role.EDITOR))]
OwnerOperator = Annotated[Operator, Depends(require_role(Role.OWNER))]


def csrf_token(request: Request) -> str:
    """The token this browser's forms carry: bound to its session, or before sign-in to a
    random value in a cookie of its own (set on the response by install_access's middleware)."""
    seed = session_token_of(request) or request.cookies.get(
        _anonymous_cookie_name(_settings(request))
    )
    if not seed:
        seed = getattr(request.state, "new_csrf_seed", None) or secrets.token_urlsafe(32)
        request.state.new_csrf_seed = seed
    return rules.csrf_token(_key(request), seed)


async def check_csrf(request: Request) -> None:
    """Every request that changes something carries the browser's CSRF token (form field
    `csrf_token` or header `X-CSRF-Token`); without it, or with another, 403."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    seed = session_token_of(request) or request.cookies.get(
        _anonymous_cookie_name(_settings(request))
    )
    if (
        not sent
        or not seed
        or not secrets.compare_digest(sent, rules.csrf_token(_key(request), seed))
    ):
        raise CsrfRefused()


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """The browser keeps the cookie for the session's whole lifetime; the session's row ends it
    sooner (idle, signed out)."""
    response.set_cookie(
        session_cookie_name(settings),
        rules.signed_session(settings.signing_key(), token),
        max_age=int(rules.SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=_secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=_secure(settings),
        httponly=True,
        samesite="lax",
    )


def login_url(next_path: str | None) -> str:
    if next_path and safe_next(next_path):
        return f"{LOGIN_PATH}?next={quote(next_path, safe='')}"
    return LOGIN_PATH


def safe_next(path: str) -> bool:
    """Only a dashboard path: never another site (`//evil.example`, `https://...`)."""
    return path.startswith("/dashboard") and not path.startswith("//") and "\\" not in path


class _AnonymousCsrfCookie:
    """Sets the pre-sign-in CSRF cookie on a response whose page made a seed for it."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/dashboard"):
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            seed = scope.get("state", {}).get("new_csrf_seed")
            if message["type"] == "http.response.start" and seed:
                cookie = Response()
                cookie.set_cookie(
                    _anonymous_cookie_name(self.settings),
                    seed,
                    path="/",
                    secure=_secure(self.settings),
                    httponly=True,
                    samesite="lax",
                )
                set_cookie = [h for h in cookie.raw_headers if h[0] == b"set-cookie"]
                message["headers"] = [*message.get("headers", []), *set_cookie]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def install_access(
    app: FastAPI,
    settings: Settings,
    forbidden_page: Callable[[Request, str], Awaitable[HTMLResponse]],
) -> None:
    """The refusals' handlers and the CSRF cookie's middleware. `forbidden_page(request,
    message)` renders the 403 page."""
    app.add_middleware(_AnonymousCsrfCookie, settings=settings)

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = login_url(exc.next_path)
        if request.headers.get("HX-Request"):  # htmx would swap the login page into a part
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def refuse_role(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RoleRequired)
        message = (
            f"This needs the {exc.needed} role; you are signed in as {exc.operator.role}. "
            "Ask an owner of your team to change your role."
        )
        return await forbidden_page(request, message)

    async def refuse_csrf(request: Request, exc: Exception) -> Response:
        message = (
            "This form has expired or did not come from Herald's dashboard (its security "
            "token is missing or wrong). Reload the page and try again."
        )
        return await forbidden_page(request, message)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(RoleRequired, refuse_role)
    app.add_exception_handler(CsrfRefused, refuse_csrf)
