"""A template's version history: every saved version with the deliveries it rendered lately,
what changed between two of them (line by line), and restore: a new version equal to an old one
(audited), never a rewrite of history."""

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from domain.operators import Operator, Role
from domain.tenants import TenantIdentity
from services.errors import ServiceError
from services.template_history import USAGE_DAYS, compare_versions, version_history
from services.templates import read_template, restore_version
from web.auth import CurrentOperator, EditorOperator
from web.deps import CurrentTenant
from web.template_editor import TEMPLATES
from web.templating import render

router = APIRouter(include_in_schema=False)
VERSIONS = TEMPLATES + "/{template_id:uuid}/versions"


@router.get(VERSIONS)
async def versions_page(
    request: Request,
    template_id: uuid.UUID,
    operator: CurrentOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    cursor: str | None = None,
) -> HTMLResponse:
    return await _versions_page(request, operator, tenant, session, template_id, cursor)


async def _versions_page(
    request: Request,
    operator: Operator,
    tenant: TenantIdentity,
    session: SessionDep,
    template_id: uuid.UUID,
    cursor: str | None = None,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    try:
        history = await version_history(session, tenant, template_id, cursor)
    except ServiceError as refused:
        if refused.field != "cursor":
            raise  # the dashboard's error page (web/error_pages.py)
        history = await version_history(session, tenant, template_id, None)
    return render(
        request,
        "templates/versions.html",
        page="templates",
        title=f"Versions of {history.template.name}",
        history=history,
        usage_days=USAGE_DAYS,
        can_edit=operator.role.allows(Role.EDITOR),
        error=error,
        status_code=status_code,
    )


@router.get(TEMPLATES + "/{template_id:uuid}/diff")
async def diff_page(
    request: Request,
    template_id: uuid.UUID,
    operator: CurrentOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    old: int | None = None,
    new: int | None = None,
) -> HTMLResponse:
    """Version `old` against version `new` (by default the current version against the one
    before it)."""
    try:
        if new is None:
            new = (await read_template(session, tenant, template_id)).version
        old = new - 1 if old is None else old
        comparison = await compare_versions(session, tenant, template_id, old, new)
    except ServiceError as refused:
        if refused.field in ("old", "new"):
            return await _versions_page(
                request, operator, tenant, session, template_id, error=refused.message,
                status_code=422,
            )  # fmt: skip
        raise  # the dashboard's error page (web/error_pages.py)
    return render(
        request,
        "templates/diff.html",
        page="templates",
        title=f"{comparison.template.name}: version {old} → {new}",
        comparison=comparison,
        can_edit=operator.role.allows(Role.EDITOR),
    )


@router.post(TEMPLATES + "/{template_id:uuid}/restore")
async def restore(
    request: Request,
    template_id: uuid.UUID,
    operator: EditorOperator,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The version in the form's `version` field as the template's next version."""
    number = str((await request.form()).get("version", ""))
    if not number.isdigit():
        return await _versions_page(
            request, operator, tenant, session, template_id,
            error="version: choose a version to restore", status_code=422,
        )  # fmt: skip
    try:
        await restore_version(
            session, tenant, template_id, int(number), settings.sms_max_segments, operator
        )
    except ServiceError as refused:
        if refused.code == "not_found":
            raise  # the dashboard's error page (web/error_pages.py)
        error = refused.message  # each field at its line, as the API says it
        return await _versions_page(
            request, operator, tenant, session, template_id, error=error, status_code=422
        )
    query = urlencode({"notice": "restored"})
    return RedirectResponse(f"{TEMPLATES}/{template_id}?{query}", status_code=303)
