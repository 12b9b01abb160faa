"""The template editor's live preview: the form's content, as typed, rendered by the preview
service with the event's sample data (htmx posts the form a moment after each keystroke, and
swaps in the fragment and each field's problems), and an email's HTML for the preview frame.

An email is shown in a sandboxed frame that loads a document of its own, with a policy of its
own (no script, nothing remote; the Dev mailbox's): a frame written from the page (srcdoc)
would carry the page's policy, which refuses the inline styles emails are made of. The frame
loads the saved version by GET (`/{id}/email`, for viewers too); templates.js posts a draft
into it (`/preview/email`)."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep, SettingsDep
from services.errors import ServiceError
from services.template_preview import preview
from web.auth import CurrentOperator, EditorOperator
from web.deps import CurrentTenant
from web.routes.dev_mailbox import EMAIL_HTML_HEADERS
from web.template_editor import TEMPLATES, previewed
from web.template_form import channel_fields, read_template_form
from web.templating import render

router = APIRouter(include_in_schema=False)
# What the frame shows when there is no HTML to show: plain words, in the frame's policy.
_NOTHING = (
    '<!doctype html><html lang="en"><title>No preview</title>'
    "<p>Nothing to show yet: see the problems beside the preview.</p></html>"
)


@router.post(f"{TEMPLATES}/preview")
async def preview_fragment(
    request: Request,
    _: EditorOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """The preview panel for the form as it is now, with each field's problems (out of band:
    beside each field)."""
    form = await read_template_form(request)
    found, problems = await previewed(session, settings, tenant, form)
    return render(
        request,
        "templates/_preview_response.html",
        page=None,
        preview=found,
        problems=problems,
        fields=channel_fields(form.channel),
        frame_src=None,
        form=form,
    )


@router.post(f"{TEMPLATES}/preview/email")
async def draft_email(
    request: Request,
    _: EditorOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The form's email HTML as a document of its own, for the preview frame."""
    found, _problems = await previewed(session, settings, tenant, await read_template_form(request))
    html = found.result.html if found and found.result else None
    return HTMLResponse(html or _NOTHING, headers=EMAIL_HTML_HEADERS)


@router.get(TEMPLATES + "/{template_id:uuid}/email")
async def saved_email(
    template_id: uuid.UUID,
    _: CurrentOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The saved version's email HTML, rendered with sample data, for the preview frame."""
    try:
        found = await preview(session, tenant, template_id, {}, settings.sms_max_segments)
    except ServiceError as refused:
        status = 404 if refused.code == "not_found" else 200
        return HTMLResponse(_NOTHING, status_code=status, headers=EMAIL_HTML_HEADERS)
    return HTMLResponse(found.html or _NOTHING, headers=EMAIL_HTML_HEADERS)
