"""The Templates page (issue 14): the list by event key and channel, and the editor (create,
save as a new version, test send). The editor's live preview is web/routes/template_preview.py,
the version history web/routes/template_versions.py. Every change goes through the same
services as /v1/templates (so the same checks and messages), recorded in the audit log."""

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.schemas.templates import TemplatePublic, TestSendRequest
from domain.filters import TemplateFilter
from domain.operators import Role
from domain.templating import default_template
from domain.templating.variables import AGENDA_EVENTS, BOOKING_EVENTS, PAYMENT_EVENTS
from domain.types import EVENT_KEY_PATTERN, Channel
from services import audit, templates
from services.errors import ServiceError
from services.template_history import template_listing
from services.template_preview import send_test
from web.auth import CurrentOperator, EditorOperator
from web.deps import CurrentTenant
from web.forms import checked
from web.template_editor import TEMPLATES, editor_page
from web.template_form import (
    TemplateForm,
    as_create,
    as_update,
    form_of,
    problem,
    read_template_form,
    refusal_problems,
)
from web.templating import render

router = APIRouter(include_in_schema=False)
CHANNELS = [channel.value for channel in Channel]
KNOWN_EVENTS = [*BOOKING_EVENTS, *PAYMENT_EVENTS, *AGENDA_EVENTS]

# What the editor says after a change (a fixed text per key: nothing is echoed).
NOTICES = {
    "created": "Template created as version 1.",
    "saved": "Saved as a new version.",
    "restored": "Restored: the old version is now the current one, as a new version.",
    "test_sent": "Test sent: it is in History, marked [TEST].",  # with a link to it there
}


@router.get(TEMPLATES)
async def templates_page(
    request: Request,
    operator: CurrentOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    event_key: str = "",
    channel: str = "",
    cursor: str | None = None,
) -> HTMLResponse:
    # A filter that cannot match anything is dropped rather than refused: this is a GET form.
    filters = TemplateFilter(
        event_key=event_key if EVENT_KEY_PATTERN.match(event_key) else None,
        channel=channel if channel in CHANNELS else None,
    )
    try:
        listing = await template_listing(session, tenant, filters, cursor)
    except ServiceError:  # a cursor this page did not make: start over
        listing = await template_listing(session, tenant, filters, None)
    return render(
        request,
        "templates/list.html",
        page="templates",
        listing=listing,
        filters={"event_key": filters.event_key or "", "channel": filters.channel or ""},
        channels=CHANNELS,
        known_events=KNOWN_EVENTS,
        can_edit=operator.role.allows(Role.EDITOR),
    )


@router.get(f"{TEMPLATES}/new")
async def new_template_page(
    request: Request,
    operator: EditorOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
    event_key: str = "",
    channel: str = "",
    start: str = "blank",
) -> HTMLResponse:
    """First the event and channel (the variables and fields depend on them), then the editor,
    blank, with Herald's own wording, or as a copy of a template (`start` is its id)."""
    if not EVENT_KEY_PATTERN.match(event_key) or channel not in CHANNELS:
        chosen = {"event_key": event_key, "channel": channel}
        typed_wrong = bool(event_key) and not EVENT_KEY_PATTERN.match(event_key)
        return render(
            request,
            "templates/choose.html",
            page="templates",
            title="New template",
            chosen=chosen,
            error="must be dotted lowercase words, e.g. order.shipped" if typed_wrong else "",
            channels=CHANNELS,
            known_events=KNOWN_EVENTS,
            status_code=422 if typed_wrong else 200,
        )
    form = TemplateForm({"event_key": event_key, "channel": channel, "is_active": "on"})
    if start == "herald" and (shipped := default_template(event_key, channel)):
        form = form_of(shipped)
        form.values["name"] = f"{event_key} ({channel})"
    elif (copied := await _copied(session, tenant, start)) and copied.channel == channel:
        form = form_of(copied)
        form.values |= {"name": f"Copy of {copied.name}"}
        form.values.pop("is_default", None)  # a copy is not the default until made so
    fresh = not form.values.get("name")  # blank: its problems show once typed in
    return await editor_page(request, session, settings, operator, tenant, form, None, fresh=fresh)


async def _copied(session: SessionDep, tenant: CurrentTenant, start: str) -> TemplatePublic | None:
    """The template to copy, if `start` is the id of one of the tenant's."""
    try:
        return await templates.read_template(session, tenant, uuid.UUID(start))
    except (ValueError, ServiceError):
        return None


@router.post(TEMPLATES)
async def create_template(
    request: Request,
    operator: EditorOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    form = await read_template_form(request)
    body, problems = as_create(form)
    if body is not None:
        try:
            created = await templates.create_template(
                session, tenant, body, settings.sms_max_segments, operator
            )
        except ServiceError as refused:
            problems = refusal_problems(refused)
        else:
            return _back_to(created.id, "created")
    return await editor_page(
        request, session, settings, operator, tenant, form, None, problems, status_code=422
    )


@router.get(TEMPLATES + "/{template_id:uuid}")
async def template_page(
    request: Request,
    template_id: uuid.UUID,
    operator: CurrentOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
    notice: str = "",
    notification: str = "",
) -> HTMLResponse:
    template = await templates.read_template(session, tenant, template_id)
    return await editor_page(
        request,
        session,
        settings,
        operator,
        tenant,
        form_of(template),
        template,
        notice=NOTICES.get(notice, ""),
        sent_test=_uuid_or_none(notification) if notice == "test_sent" else None,
    )


@router.post(TEMPLATES + "/{template_id:uuid}")
async def save_template(
    request: Request,
    template_id: uuid.UUID,
    operator: EditorOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The form's content as the template's next version."""
    template = await templates.read_template(session, tenant, template_id)
    form = await read_template_form(request)
    form.values |= {"event_key": template.event_key, "channel": template.channel}
    body, problems = as_update(form)
    if body is not None:
        try:
            await templates.update_template(
                session, tenant, template_id, body, settings.sms_max_segments, operator
            )
        except ServiceError as refused:
            problems = refusal_problems(refused)
        else:
            return _back_to(template_id, "saved")
    return await editor_page(
        request, session, settings, operator, tenant, form, template, problems, status_code=422
    )


@router.post(TEMPLATES + "/{template_id:uuid}/test")
async def send_test_message(
    request: Request,
    template_id: uuid.UUID,
    operator: EditorOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> Response:
    """The saved version, sent to the address typed, as a real notification marked [TEST]."""
    template = await templates.read_template(session, tenant, template_id)
    to = str((await request.form()).get("to", "")).strip()
    address = "phone" if template.channel == Channel.SMS else "email"
    body, errors = checked(TestSendRequest, {address: to or None})
    problems = [problem(text) for text in errors.values()]
    if body is not None:
        try:
            accepted = await send_test(session, temporal, settings, tenant, template_id, body)
        except ServiceError as refused:
            problems = [found for each in refusal_problems(refused).values() for found in each]
        else:
            async with session.begin():
                details = {"to": to, "notification": str(accepted.id), "version": template.version}
                await audit.record(
                    session, operator, "template.test_send", _target(template), details
                )
            return _back_to(template_id, "test_sent", notification=accepted.id)
    return await editor_page(
        request,
        session,
        settings,
        operator,
        tenant,
        form_of(template),
        template,
        test={"to": to, "problems": problems},
        status_code=422,
    )


def _uuid_or_none(text: str) -> uuid.UUID | None:
    """The test send's notification, for a link to it in History (only an id: nothing else
    of the query string is shown)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _target(template: TemplatePublic) -> str:
    return f"template {template.id} ({template.name})"


def _back_to(
    template_id: uuid.UUID, notice: str, notification: uuid.UUID | None = None
) -> RedirectResponse:
    """To the editor, saying what was done (a redirect: reloading does not post again)."""
    query = urlencode({"notice": notice} | ({"notification": notification} if notification else {}))
    return RedirectResponse(f"{TEMPLATES}/{template_id}?{query}", status_code=303)
