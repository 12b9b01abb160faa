"""The Dev mailbox (development only): the mail catcher's messages listed, and one shown with
its HTML (in a sandboxed frame), text and headers. web/routes/__init__.py mounts this router only
when web.pages.dev_mailbox_enabled: never in production."""

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from config.settings import Settings
from services.dev_mailbox import LIST_LIMIT, list_messages, read_message
from services.errors import NotFound
from web.auth import CurrentOperator
from web.pages import PAGES_BY_KEY
from web.templating import render

PATH = PAGES_BY_KEY["dev_mailbox"].path
router = APIRouter(include_in_schema=False)

# An email's HTML is someone else's markup: served as a sandboxed document (no script, no
# same-origin access, no form, no popup) that loads nothing from anywhere, remote images
# included (a tracking pixel would record an open), and only the dashboard may frame it.
EMAIL_HTML_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "font-src data:; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _directory(settings: Settings) -> Path:
    assert settings.dev_mailbox_path  # mounted only when set
    return Path(settings.dev_mailbox_path)


@router.get(PATH)
async def dev_mailbox_page(
    request: Request, _: CurrentOperator, settings: SettingsDep
) -> HTMLResponse:
    messages = await list_messages(_directory(settings))
    return render(
        request, "dev_mailbox.html", page="dev_mailbox", messages=messages, limit=LIST_LIMIT
    )


@router.get(PATH + "/{message_id}")
async def dev_message_page(
    request: Request, _: CurrentOperator, settings: SettingsDep, message_id: str
) -> HTMLResponse:
    try:
        message = await read_message(_directory(settings), message_id)
    except NotFound as exc:
        return render(
            request, "error.html", page="dev_mailbox", message=exc.message, status_code=404
        )
    return render(
        request,
        "dev_message.html",
        page="dev_mailbox",
        title=message.summary.subject or "(no subject)",
        message=message,
    )


@router.get(PATH + "/{message_id}/html")
async def dev_message_html(_: CurrentOperator, settings: SettingsDep, message_id: str) -> Response:
    try:
        message = await read_message(_directory(settings), message_id)
    except NotFound:
        return Response(status_code=404, headers=EMAIL_HTML_HEADERS)
    if message.html is None:
        return Response(status_code=404, headers=EMAIL_HTML_HEADERS)
    return HTMLResponse(message.html, headers=EMAIL_HTML_HEADERS)
