"""Send (/dashboard/send): a notification sent by hand. The form's parts come from htmx
fragments as the operator goes: an event's templates and context fields, the recipients their
typing finds, a preview (GETs: they change nothing, so a viewer may look too); sending posts
the form (editors and owners) and leads to the notification in History."""

import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import STATUS
from api.schemas.templates import PreviewResult
from domain.operators import Operator, Role
from domain.types import Channel, Priority
from services import manual_send
from services.errors import ServiceError
from web.auth import CurrentOperator, EditorOperator
from web.forms import FieldErrors, form_values
from web.pages import PAGES_BY_KEY
from web.routes.dev_mailbox import EMAIL_HTML_HEADERS
from web.send_form import read_preview_form, read_send_form, send_refusal_errors
from web.templating import render

router = APIRouter(include_in_schema=False)
SEND = PAGES_BY_KEY["send"].path
HISTORY = PAGES_BY_KEY["history"].path
CHANNELS = [(channel.value, channel.value.replace("_", "-")) for channel in Channel]
PRIORITIES = [(priority.value, priority.value.capitalize()) for priority in Priority]
# What the preview frame shows when there is no HTML to show, in the frame's own policy.
_NO_HTML = '<!doctype html><html lang="en"><title>No preview</title><p>No HTML to show.</p></html>'


def _template_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _fields_for(
    session: SessionDep, operator: Operator, chosen: Mapping[str, str]
) -> manual_send.MessageFields | None:
    """The event's templates and context fields the form's `event_key` and `template_id` ask
    for (no `template_id` at all: the event's default template; an empty one: none)."""
    return await manual_send.message_fields(
        session,
        operator.tenant_id,
        chosen.get("event_key"),
        _template_id(chosen.get("template_id")),
        chosen_default="template_id" not in chosen,
    )


async def _send_page(
    request: Request,
    operator: Operator,
    session: SessionDep,
    values: dict[str, str],
    channels: list[str],
    errors: FieldErrors,
    status_code: int = 200,
) -> HTMLResponse:
    async with session.begin():
        event_keys = await manual_send.event_keys(session, operator.tenant_id)
        fields = await _fields_for(session, operator, values)
    return render(
        request,
        "send/page.html",
        page="send",
        values=values,
        chosen_channels=channels,
        errors=errors,
        event_keys=event_keys,
        fields=fields,
        channels=CHANNELS,
        priorities=PRIORITIES,
        idempotency_key=values.get("idempotency_key") or f"dashboard-{uuid.uuid4()}",
        can_change=operator.role.allows(Role.EDITOR),
        status_code=status_code,
    )


@router.get(SEND)
async def send_page(
    request: Request, operator: CurrentOperator, session: SessionDep
) -> HTMLResponse:
    """The form; `event_key`, `template_id` and `recipient` in the query string fill it in."""
    values = {k: v for k, v in request.query_params.items() if k != "channels"}
    return await _send_page(
        request, operator, session, values, request.query_params.getlist("channels"), {}
    )


@router.get(f"{SEND}/fields")
async def message_fields(
    request: Request, operator: CurrentOperator, session: SessionDep
) -> HTMLResponse:
    """The chosen event's templates and context fields (when the event or template changes)."""
    async with session.begin():
        fields = await _fields_for(session, operator, request.query_params)
    return render(
        request, "send/_message_fields.html", page=None, fields=fields, values={}, errors={}
    )


@router.get(f"{SEND}/recipients")
async def recipient_matches(
    request: Request, operator: CurrentOperator, session: SessionDep
) -> HTMLResponse:
    """The recipients the recipient field's text finds, to pick from."""
    typed = request.query_params.get("recipient", "")
    async with session.begin():
        matches = await manual_send.find_recipients(session, operator.tenant_id, typed)
    return render(request, "send/_recipient_matches.html", page=None, matches=matches, typed=typed)


@router.get(f"{SEND}/recipient")
async def chosen_recipient(request: Request, _: CurrentOperator) -> HTMLResponse:
    """The recipient field holding the one picked from the matches."""
    return render(
        request,
        "send/_recipient_input.html",
        page=None,
        value=request.query_params.get("recipient", ""),
        errors={},
    )


@router.get(f"{SEND}/preview")
async def preview(
    request: Request, operator: CurrentOperator, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The form's template and context as they are, previewed (the preview service)."""
    params = request.query_params
    result, errors = await _previewed(session, settings, operator, dict(params))
    frame = f"{SEND}/preview/email?{urlencode(list(params.multi_items()))}"
    return render(
        request, "send/_preview.html", page=None, preview=result, errors=errors, frame_src=frame
    )


@router.get(f"{SEND}/preview/email")
async def preview_email(
    request: Request, operator: CurrentOperator, session: SessionDep, settings: SettingsDep
) -> Response:
    """The previewed email's HTML, for its sandboxed frame."""
    result, _ = await _previewed(session, settings, operator, dict(request.query_params))
    html = result.html if result is not None else None
    return HTMLResponse(html or _NO_HTML, headers=EMAIL_HTML_HEADERS)


async def _previewed(
    session: SessionDep, settings: SettingsDep, operator: Operator, values: dict[str, str]
) -> tuple[PreviewResult | None, FieldErrors]:
    template_id, context, errors = read_preview_form(values)
    if template_id is None or errors:
        return None, errors
    try:
        found = await manual_send.preview(
            session, settings, operator.tenant_id, template_id, context
        )
    except ServiceError as refused:
        return None, send_refusal_errors(refused)
    return found, {}


@router.post(SEND)
async def send(
    request: Request,
    operator: EditorOperator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Sent: on to History, showing the notification's deliveries. Refused: the form again,
    each problem beside its field, nothing sent."""
    form = await request.form()
    values = {name: value for name, value in (await form_values(request)).items()}
    channels = [value for value in form.getlist("channels") if isinstance(value, str)]
    values.pop("csrf_token", None)
    send, errors = read_send_form(values, channels)
    status = 422
    if send is not None:
        try:
            accepted = await manual_send.send(session, temporal, settings, operator, send)
        except ServiceError as refused:
            errors, status = send_refusal_errors(refused), STATUS.get(type(refused), 422)
        else:
            query = urlencode({"q": str(accepted.id), "notice": "sent"})
            return RedirectResponse(f"{HISTORY}?{query}", status_code=303)
    return await _send_page(request, operator, session, values, channels, errors, status)
