"""History (/dashboard/history): the delivery log with filters and search, a delivery's page
(timeline, content, its workflow in Temporal's Web UI), and resend: one delivery, or every
failed one the filter matches (confirmed first)."""

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import STATUS
from domain.operators import Operator, Role
from domain.types import Channel, DeliveryStatus
from services import delivery_detail, history
from services.errors import NotFound, ServiceError
from web.auth import CurrentOperator, EditorOperator
from web.forms import FieldErrors, checked, form_values, refusal_errors
from web.pages import PAGES_BY_KEY
from web.routes.dev_mailbox import EMAIL_HTML_HEADERS
from web.templating import render

T = TypeVar("T")
router = APIRouter(include_in_schema=False)
HISTORY = PAGES_BY_KEY["history"].path
STATUS_OPTIONS = [
    ("", "Any status"),
    *((s.value, s.value.replace("_", " ")) for s in DeliveryStatus),
]
CHANNEL_OPTIONS = [("", "Any channel"), *((c.value, c.value.replace("_", "-")) for c in Channel)]


# What the page says on arriving from elsewhere (a fixed text per key: nothing is echoed).
NOTICES = {"sent": "Sent. Its deliveries are listed here as they are planned and sent."}


def _query_values(request: Request) -> dict[str, str]:
    """The filter form's fields as sent (empty ones are unset)."""
    return {
        name: value
        for name, value in request.query_params.items()
        if value.strip() and name != "notice"
    }


# The filter form's fields: a problem with anything else (the cursor of a link) is the form's.
FILTER_FIELDS = {"q", "status", "channel", "event_key", "recipient", "provider", "from", "to"}


def _beside_fields(errors: FieldErrors) -> FieldErrors:
    shown: FieldErrors = {}
    for field, problem in errors.items():
        if field in FILTER_FIELDS:
            shown[field] = problem
        else:
            shown.setdefault("", f"{field}: {problem}" if field else problem)
    return shown


def _can_change(operator: Operator) -> bool:
    return operator.role.allows(Role.EDITOR)


async def _with_query(
    request: Request, session: SessionDep, read: Callable[[history.HistoryQuery], Awaitable[T]]
) -> tuple[dict[str, str], history.HistoryQuery | None, T | None, FieldErrors]:
    """The filter the query string asks for, and what `read` finds with it; or its problems."""
    values = _query_values(request)
    query, errors = checked(history.HistoryQuery, values)
    found = None
    if query is not None:
        try:
            async with session.begin():
                found = await read(query)
        except ServiceError as refused:
            errors = refusal_errors(refused)
    return values, query, found, errors


@router.get(HISTORY)
async def history_page(
    request: Request, operator: CurrentOperator, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    values, query, found, errors = await _with_query(
        request,
        session,
        lambda query: history.history_page(session, operator.tenant_id, query),
    )
    errors = _beside_fields(errors)
    providers = [("", "Any provider"), *((p, p) for p in history.provider_names())]
    return render(
        request,
        "history/list.html",
        page="history",
        values=values,
        errors=errors,
        found=found,
        next_url=_next_url(query, found),
        first_url=f"{HISTORY}?{urlencode(query.as_params(cursor=None))}" if query else HISTORY,
        resend_url=f"{HISTORY}/resend?{urlencode(query.as_params(cursor=None))}" if query else "",
        status_options=STATUS_OPTIONS,
        channel_options=CHANNEL_OPTIONS,
        provider_options=providers,
        scan_limit=history.SCAN_LIMIT,
        notice=NOTICES.get(request.query_params.get("notice", ""), ""),
        can_change=_can_change(operator),
        status_code=200 if not errors else 422,
    )


def _next_url(query: history.HistoryQuery | None, found: history.HistoryPage | None) -> str:
    if query is None or found is None or found.next_cursor is None:
        return ""
    return f"{HISTORY}?{urlencode(query.as_params(cursor=found.next_cursor))}"


# Listed before the delivery's page: "resend" is no delivery id.
@router.get(f"{HISTORY}/resend")
async def resend_matching_page(
    request: Request, operator: CurrentOperator, session: SessionDep
) -> HTMLResponse:
    """What "resend every failed delivery" would resend, to confirm."""
    values, query, plan, errors = await _with_query(
        request, session, lambda query: history.resend_plan(session, operator.tenant_id, query)
    )
    return render(
        request,
        "history/resend.html",
        page="history",
        title="Resend failed deliveries",
        values=values,
        errors=errors,
        plan=plan,
        at_once=history.RESEND_AT_ONCE,
        back_url=f"{HISTORY}?{urlencode(query.as_params())}" if query else HISTORY,
        can_change=_can_change(operator),
        status_code=200 if not errors else 422,
    )


@router.post(f"{HISTORY}/resend")
async def resend_matching(
    request: Request,
    operator: EditorOperator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> HTMLResponse:
    values = {
        name: value
        for name, value in (await form_values(request)).items()
        if name != "csrf_token" and value.strip()
    }
    query, errors = checked(history.HistoryQuery, values)
    result, status = None, 422
    if query is not None:
        try:
            result = await history.resend_matching(session, temporal, settings, operator, query)
        except ServiceError as refused:  # Temporal unreachable: 503
            errors, status = refusal_errors(refused), STATUS.get(type(refused), 422)
    return render(
        request,
        "history/resent.html",
        page="history",
        title="Resend failed deliveries",
        errors=errors,
        result=result,
        back_url=f"{HISTORY}?{urlencode(query.as_params())}" if query else HISTORY,
        status_code=202 if result is not None else status,
    )


def _delivery_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"delivery {value} not found") from None


@router.get(HISTORY + "/{delivery_id}")
async def delivery_page(
    request: Request,
    delivery_id: str,
    operator: CurrentOperator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> HTMLResponse:
    return await _delivery_page(request, delivery_id, operator, session, temporal, settings)


async def _delivery_page(
    request: Request,
    delivery_id: str,
    operator: Operator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        view = await delivery_detail.delivery_view(
            session, temporal, settings, operator.tenant_id, _delivery_id(delivery_id)
        )
    except NotFound as missing:
        return render(
            request, "error.html", page="history", message=missing.message, status_code=404
        )
    return render(
        request,
        "history/delivery.html",
        page="history",
        title=f"Delivery {view.record.delivery.id}",
        view=view,
        errors=errors or {},
        notice="Resent." if request.query_params.get("notice") == "resent" else "",
        can_change=_can_change(operator),
        status_code=status_code,
    )


@router.get(HISTORY + "/{delivery_id}/html")
async def delivery_html(
    delivery_id: str, operator: CurrentOperator, session: SessionDep
) -> Response:
    """The email's HTML for its frame: sandboxed, nothing loaded from anywhere."""
    try:
        html = await delivery_detail.delivery_html(
            session, operator.tenant_id, _delivery_id(delivery_id)
        )
    except NotFound:
        return Response(status_code=404, headers=EMAIL_HTML_HEADERS)
    return HTMLResponse(html, headers=EMAIL_HTML_HEADERS)


@router.post(HISTORY + "/{delivery_id}/resend")
async def resend_delivery(
    request: Request,
    delivery_id: str,
    operator: EditorOperator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Resent: on to the new delivery's page (a redirect, so reloading does not post again).
    Refused: this delivery's page, saying why."""
    try:
        resent = await history.resend_one(
            session, temporal, settings, operator, _delivery_id(delivery_id)
        )
    except ServiceError as refused:
        status = STATUS.get(type(refused), 422)
        if isinstance(refused, NotFound):
            return render(
                request, "error.html", page="history", message=refused.message, status_code=404
            )
        return await _delivery_page(
            request, delivery_id, operator, session, temporal, settings,
            refusal_errors(refused), status,
        )  # fmt: skip
    return RedirectResponse(f"{HISTORY}/{resent.id}?notice=resent", status_code=303)
