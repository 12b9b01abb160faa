"""The Scheduled page (/dashboard/scheduled): notifications waiting for their time and booking
reminders still to come, soonest first (services/scheduled.py, as GET /v1/scheduled lists them),
each cancelled (after a confirmation) or moved to a new time typed in the operator's zone.
Every change is in the audit log."""

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import STATUS
from api.schemas.scheduling import Reschedule
from domain.policy.wallclock import resolve_wall_time
from domain.preferences import is_known_timezone
from domain.tenants import TenantIdentity
from services import scheduled
from services.errors import NotFound, ServiceError
from web.auth import EditorOperator
from web.deps import CurrentTenant
from web.forms import FieldErrors, checked, form_values, refusal_errors
from web.pages import PAGES_BY_KEY
from web.routes.recipients import recipient_path
from web.templating import render

router = APIRouter(include_in_schema=False)
SCHEDULED = PAGES_BY_KEY["scheduled"].path
SHOWN = 50
NOTICES = {
    "cancelled": "Cancelled: it will not be sent.",
    "rescheduled": "Rescheduled.",
}


@router.get(SCHEDULED)
async def scheduled_page(
    request: Request, tenant: CurrentTenant, session: SessionDep, cursor: str | None = None
) -> HTMLResponse:
    return await _page(request, session, tenant, cursor)


@router.post(f"{SCHEDULED}/{{id}}/cancel")
async def cancel(
    request: Request,
    id: uuid.UUID,
    tenant: CurrentTenant,
    editor: EditorOperator,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    change = scheduled.cancel_scheduled(session, temporal, tenant, id, by=editor)
    return await _made(change, "cancelled", request, session, tenant, id)


@router.post(f"{SCHEDULED}/{{id}}/reschedule")
async def reschedule(
    request: Request,
    id: uuid.UUID,
    tenant: CurrentTenant,
    editor: EditorOperator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    values = await form_values(request)
    send_at, errors = _send_at(values)
    if send_at is None:
        return await _page(request, session, tenant, None, id, errors, values, 422)
    change = scheduled.reschedule_scheduled(
        session, temporal, settings, tenant, id, send_at, by=editor
    )
    return await _made(change, "rescheduled", request, session, tenant, id, values)


def _send_at(values: dict[str, str]) -> tuple[datetime | None, FieldErrors]:
    """The new time: a wall time (a datetime-local field) in the zone the form states (the
    operator's, else UTC), or a full RFC 3339 date-time; refused in the API's words."""
    zone = values.get("operator_zone", "")
    zone = zone if is_known_timezone(zone) else "UTC"
    written = values.get("send_at", "").strip()
    try:
        local = datetime.fromisoformat(written)
    except ValueError:  # not a date and time: refused in the API's words
        _, errors = checked(Reschedule, {"send_at": written})
        return None, errors or {"send_at": "must be a date and time, e.g. 2030-01-31T09:30"}
    if local.tzinfo is None:  # the clocks of `zone` show it (the first, if they show it twice)
        local = resolve_wall_time(local.date(), local.time(), ZoneInfo(zone))
    form, errors = checked(Reschedule, {"send_at": local})
    return (form.send_at if form else None), errors


async def _made(
    change: Any,
    notice: str,
    request: Request,
    session: SessionDep,
    tenant: TenantIdentity,
    id: uuid.UUID,
    values: dict[str, str] | None = None,
) -> Response:
    """Makes the change, then back to the list saying so; refused, the list with the refusal
    under the item, with the API's status for it."""
    try:
        await change
    except ServiceError as refused:
        if isinstance(refused, NotFound):
            return render(
                request,
                "error.html",
                page="scheduled",
                title="Not found",
                message="Nothing scheduled has that id in your tenant: it may have been sent.",
                status_code=404,
            )
        errors = refusal_errors(refused)
        status = STATUS.get(type(refused), 422)
        return await _page(request, session, tenant, None, id, errors, values, status)
    return RedirectResponse(f"{SCHEDULED}?{urlencode({'notice': notice})}", status_code=303)


async def _page(
    request: Request,
    session: SessionDep,
    tenant: TenantIdentity,
    cursor: str | None,
    failed: uuid.UUID | None = None,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        listed = await scheduled.list_scheduled(session, tenant, cursor, SHOWN)
    except ServiceError:  # a cursor this page did not make: start over
        listed = await scheduled.list_scheduled(session, tenant, None, SHOWN)
    return render(
        request,
        "scheduled.html",
        page="scheduled",
        listed=listed,
        failed=str(failed) if failed else "",
        send_at_error=(errors or {}).get("send_at", ""),
        row_error="; ".join(
            f"{field}: {problem}" if field else problem
            for field, problem in (errors or {}).items()
            if field != "send_at"
        ),
        values=values or {},
        notice=NOTICES.get(request.query_params.get("notice", ""), ""),
        before=offset_words,
        recipient_path=recipient_path,
        status_code=status_code,
    )


def offset_words(minutes: float | None) -> str:
    """A reminder's offset before its booking, in words: `1 day`, `2 hours`, `90 minutes`."""
    if minutes is None:
        return ""
    whole = round(minutes)
    for size, unit in ((1440, "day"), (60, "hour")):
        if whole >= size and whole % size == 0:
            count = whole // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{whole} minute{'s' if whole != 1 else ''}"
