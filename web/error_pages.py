"""The dashboard's error pages: an outage (Temporal or the database unreachable, a service
Unavailable), an unexpected error or any other refusal the API's handlers answer (an address no
page has, say) on a /dashboard path answers the operator's browser with a page in the dashboard's
layout, not the API's problem JSON.

One place for every dashboard route: `install_error_pages(app)` wraps the API's exception
handlers (api/errors.py install_error_handlers, which runs first), so the page has the status
the API would answer (503 with Retry-After, 500 without a word of the error itself) and says
what happened in an operator's words; other paths keep their problem JSON. A request from htmx
(a part of a page updating itself) gets a short notice instead, put in the page's notice area
(base.html's #page-notice) whichever part of the page asked. Routes that show a refusal on
their own page (a form's problems beside its fields) still do: only what they let through
arrives here."""

import inspect
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.responses import Response

from api.schemas.problems import PROBLEM_JSON
from web.pages import PREFIX
from web.templating import RETRY_AFTER, render

# An exception handler, as Starlette calls it: sync or async, a Response (None for a websocket).
Handler = Callable[[Request, Exception], Any]
NOTICE_AREA = "#page-notice"

# What an outage means to an operator, by the API's problem code.
_UNREACHABLE = {
    "temporal_unavailable": "Herald could not reach Temporal, which runs its notifications",
    "database_unavailable": "Herald could not reach its database",
}
_UNEXPECTED = (
    "Something went wrong on Herald's side; it is recorded in the server's log. Try again, and "
    "if it keeps happening, tell whoever runs Herald."
)


def install_error_pages(app: FastAPI) -> None:
    for kind, api_handler in list(app.exception_handlers.items()):
        app.add_exception_handler(kind, _page_on_the_dashboard(api_handler))


def _page_on_the_dashboard(api_handler: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Any:
        response = api_handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        path = request.url.path
        on_the_dashboard = path == PREFIX or path.startswith(PREFIX + "/")
        if not on_the_dashboard or getattr(response, "media_type", None) != PROBLEM_JSON:
            return response  # the API's answer, or a page the dashboard's own handlers made
        return _error_page(request, json.loads(bytes(response.body)))

    return handler


def _error_page(request: Request, problem: dict[str, Any]) -> Response:
    status = problem["status"]
    title, message = _words(status, problem["code"], problem["detail"])
    if request.headers.get("HX-Request"):
        return _notice(status, message)
    return render(
        request, "error.html", page=None, title=title, message=message, status_code=status
    )


def _words(status: int, code: str, detail: str) -> tuple[str, str]:
    """The page's title and what it says."""
    if status == 500:
        return "Something went wrong", _UNEXPECTED
    if status == 503:
        cause = _UNREACHABLE.get(code)
        message = f"{cause}. Try again in a few seconds." if cause else detail
        return "Temporarily unavailable", message
    return HTTPStatus(status).phrase, detail


def _notice(status: int, message: str) -> HTMLResponse:
    """For htmx: the message in the page's notice area, whichever part of the page asked
    (HX-Reselect: not filtered by the part's hx-select)."""
    headers = {"HX-Retarget": NOTICE_AREA, "HX-Reswap": "innerHTML", "HX-Reselect": "unset"}
    if status == 503:
        headers["Retry-After"] = RETRY_AFTER
    body = Markup('<p class="notice-error" role="alert">{}</p>').format(message)
    return HTMLResponse(body, status_code=status, headers=headers)
