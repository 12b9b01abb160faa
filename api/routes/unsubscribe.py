"""One-click unsubscribe (RFC 8058): no login, the signed token says who and what.

GET shows a confirmation button (mail scanners follow links; they must not unsubscribe
anyone); POST, from that button or from a mail client's List-Unsubscribe-Post, does it.
"""

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SettingsDep
from services.unsubscribe import apply_unsubscribe, unsubscribe_request

router = APIRouter(
    prefix="/v1/unsubscribe",
    tags=["preferences"],
    responses={403: {"description": "The link is not valid (`invalid_token`)."}},
)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:32rem;margin:4rem auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


@router.get("/{token}", response_class=HTMLResponse)
async def confirm_unsubscribe(token: str, settings: SettingsDep) -> HTMLResponse:
    request = unsubscribe_request(settings, token)
    return _page(
        f"Unsubscribe from {request.category} {request.channel}s?",
        "<form method='post'><button type='submit'>Unsubscribe</button></form>",
    )


@router.post("/{token}", response_class=HTMLResponse)
async def unsubscribe_from_link(
    token: str, settings: SettingsDep, session: SessionDep
) -> HTMLResponse:
    request = await apply_unsubscribe(session, settings, token)
    return _page(
        "You are unsubscribed",
        f"<p>You will no longer get {html.escape(request.category)}"
        f" {html.escape(request.channel)}s.</p>",
    )
