"""The template editor page, shared by the Templates routers (web/routes/templates.py,
template_preview.py, template_versions.py): the form beside the preview of what it holds, each
problem beside its field and at its line."""

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.templates import TemplatePublic
from config.settings import Settings
from domain.operators import Operator, Role
from domain.templating.variables import variables_for
from domain.tenants import TenantIdentity
from domain.types import Channel
from services.errors import ServiceError
from services.template_preview import DraftPreview, preview_draft
from web.pages import PAGES_BY_KEY
from web.template_form import (
    FIELD_LABELS,
    Problems,
    TemplateForm,
    channel_fields,
    problem,
)
from web.templating import render

TEMPLATES = PAGES_BY_KEY["templates"].path


async def previewed(
    session: AsyncSession, settings: Settings, tenant: TenantIdentity, form: TemplateForm
) -> tuple[DraftPreview | None, Problems]:
    """The form's content previewed, and every problem by field: the form's own (a fallback
    line that is not `name = text`), then what a save would refuse, each at its line. No
    preview without a channel, or with a locale the sample data cannot be written in."""
    problems: Problems = {name: list(found) for name, found in form.problems.items()}
    if not channel_fields(form.channel):
        choices = ", ".join(channel.value for channel in Channel)
        return None, problems | {"channel": [problem(f"choose one of {choices}")]}
    try:
        found = await preview_draft(session, tenant, form.draft(), settings.sms_max_segments)
    except ServiceError as refused:
        return None, problems | {"locale": [problem(refused.message)]}
    for issue in found.issues:
        text = f"line {issue.line}: {issue.message}" if issue.line else issue.message
        problems.setdefault(issue.field, []).append(problem(text))
    return found, problems


async def editor_page(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    operator: Operator,
    tenant: TenantIdentity,
    form: TemplateForm,
    saved: TemplatePublic | None,
    refused: Problems | None = None,
    *,
    notice: str = "",
    test: dict[str, Any] | None = None,
    status_code: int = 200,
    fresh: bool = False,
    sent_test: uuid.UUID | None = None,
) -> HTMLResponse:
    """The editor for `form` (`saved`: the template it edits; None: a new one), each field with
    what the preview found (unless `fresh`: blank, not typed in yet) and, after a refused save
    (`refused`), why it was refused.
    The frame shows the saved version, or a draft that templates.js posts into it."""
    preview, found = await previewed(session, settings, tenant, form)
    problems = {} if fresh else found  # a blank new template: nothing to reproach yet
    if refused is not None:  # why the save was refused, and anything else a save would meet
        problems = {name: list(each) for name, each in refused.items()}
        for name, each in found.items():
            problems.setdefault(name, []).extend(p for p in each if p not in problems[name])
    shows_saved = saved is not None and refused is None
    return render(
        request,
        "templates/editor.html",
        page="templates",
        title=saved.name if saved else "New template",
        saved=saved,
        form=form,
        problems=problems,
        fields=channel_fields(form.channel),
        labels=FIELD_LABELS,
        variables=variables_for(form.event_key),
        preview=preview,
        frame_src=f"{TEMPLATES}/{saved.id}/email" if saved and shows_saved else None,
        can_edit=operator.role.allows(Role.EDITOR),
        notice=notice,
        sent_test=sent_test,
        test=test or {"to": "", "problems": []},
        status_code=status_code,
    )
