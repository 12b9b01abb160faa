"""One-click unsubscribe (RFC 8058): no login, the signed token says who and what.

GET shows a confirmation button (mail scanners follow links; they must not unsubscribe
anyone); POST, from that button or from a mail client's List-Unsubscribe-Post, does it.
"""

import html
import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from api.deps import SessionDep, SettingsDep
from api.errors import ApiError
from db.opt_outs import switch_off_category
from domain.unsubscribe import InvalidToken, Unsubscribe, verify

router = APIRouter(prefix="/v1/unsubscribe", tags=["preferences"])


def _request(settings, token: str) -> Unsubscribe:
    try:
        return verify(settings.signing_key(), token)
    except InvalidToken:
        raise ApiError(403, "invalid_token", "token: this unsubscribe link is not valid") from None


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:32rem;margin:4rem auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


@router.get("/{token}", response_class=HTMLResponse)
async def confirm(token: str, settings: SettingsDep) -> HTMLResponse:
    request = _request(settings, token)
    return _page(
        f"Unsubscribe from {request.category} {request.channel}s?",
        f"<form method='post'><button type='submit'>Unsubscribe</button></form>",
    )


@router.post("/{token}", response_class=HTMLResponse)
async def unsubscribe(token: str, settings: SettingsDep, session: SessionDep) -> HTMLResponse:
    request = _request(settings, token)
    async with session.begin():
        await switch_off_category(
            session, uuid.UUID(request.tenant_id), uuid.UUID(request.recipient_id), request.category, request.channel
        )
    return _page("You are unsubscribed", f"<p>You will no longer get {html.escape(request.category)} {html.escape(request.channel)}s.</p>")
