"""Rendering the dashboard's pages: one Jinja2 environment (autoescaped: every value a template
prints is HTML-escaped unless marked safe), the context every page shares, and the headers every
page carries.

A page route ends with `return render(request, "<template>.html", page="<key>", ...)`; the
template extends "base.html" (navigation, the operator, logout) and fills `content`. Every page
gets `operator`, `csrf_token` (for its forms' `csrf_token` field; htmx sends it as a header),
`navigation`, `pages` (by key: `pages.history.path`), `active` and `static_url(name)`."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from domain.chat import shown_address
from web.auth import csrf_token
from web.pages import PAGES_BY_KEY, PREFIX, navigation

HERE = Path(__file__).parent
STATIC_PATH = f"{PREFIX}/static"
STATIC_DIRECTORY = HERE / "static" / "dashboard"
LOGOUT_PATH = f"{PREFIX}/logout"

# Everything the dashboard loads is its own: no inline script or style, no other host; the
# pages cannot be framed elsewhere (clickjacking). Frames: only the Dev mailbox's own email view.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show a tenant's data: no shared or back-button cache
}
# A page that could not do its work for an outage (503) says when to try again, as the API does.
RETRY_AFTER = "5"

# What a status reads as: its badge's colour (the word is always printed beside it).
_TONES = {
    "ok": "ok",
    "closed": "ok",
    "sent": "ok",
    "delivered": "ok",
    "opened": "ok",
    "clicked": "ok",
    "degraded": "warn",
    "half_open": "warn",
    "deferred": "warn",
    "pending": "warn",
    "down": "bad",
    "open": "bad",
    "failed": "bad",
    "bounced": "bad",
}


def tone(status: str) -> str:
    """ok, warn, bad, or "" (neutral: cancelled, suppressed, digested, anything new)."""
    return _TONES.get(str(status), "")


def when(value: datetime) -> str:
    """A time as the dashboard writes it: to the minute, in UTC."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def in_zone(value: datetime, zone: str) -> str:
    """A time as the clocks of `zone` (an IANA name) show it, to the minute, with the zone's
    abbreviation: a recipient's wall time."""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _shared_context(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    return {
        "operator": getattr(request.state, "operator", None),
        "csrf_token": csrf_token(request),
        "navigation": navigation(settings),
        "pages": PAGES_BY_KEY,
        "logout_path": LOGOUT_PATH,
    }


def static_url(name: str) -> str:
    return f"{STATIC_PATH}/{name}"


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a name a template misspells fails its test, not silently
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["tone"] = tone
_environment.filters["when"] = when
_environment.filters["in_zone"] = in_zone
_environment.filters["shown_address"] = shown_address  # a chat webhook URL's path is a secret
_environment.globals["static_url"] = static_url
templates = Jinja2Templates(env=_environment, context_processors=[_shared_context])


def render(
    request: Request,
    template: str,
    *,
    page: str | None,
    title: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """`template` as the page `page` (a key of web.pages.PAGES: the navigation marks it
    current), or as a page outside the navigation (None: a sign-in page, an error) with its
    `title`. `title` defaults to the page's label."""
    known = PAGES_BY_KEY[page] if page else None
    return templates.TemplateResponse(
        request,
        template,
        {
            "active": page,
            "page": known,
            "title": title or (known.label if known else "Herald"),
            **context,
        },
        status_code=status_code,
        headers=PAGE_HEADERS | ({"Retry-After": RETRY_AFTER} if status_code == 503 else {}),
    )


async def forbidden_page(request: Request, message: str) -> HTMLResponse:
    """The 403 page (web.auth.install_access): what was refused and why, within the layout."""
    return render(
        request, "error.html", page=None, title="Not allowed", message=message, status_code=403
    )
