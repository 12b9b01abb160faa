"""The team page (/dashboard/team: every operator sees it; owners invite, change roles, remove
and revoke invitations) and the audit log (/dashboard/audit)."""

import uuid
from collections.abc import Awaitable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SessionsDep, SettingsDep, TemporalDep
from api.errors import STATUS
from api.schemas.operators import InvitationCreate, RoleChange
from domain.operators import Operator, Role
from services import audit, operator_links, operators
from services.errors import ServiceError
from web.auth import CurrentOperator, OwnerOperator
from web.forms import FieldErrors, checked, form_values, refusal_errors
from web.pages import PAGES_BY_KEY
from web.templating import render

router = APIRouter(include_in_schema=False)
TEAM = PAGES_BY_KEY["team"].path

# What the page says after a change (a fixed text per key: nothing is echoed).
NOTICES = {
    "invited": "Invitation sent: it is in the team's History as herald.operator_invite.",
    "role_changed": "Role changed.",
    "removed": "Member removed; their sessions have ended.",
    "revoked": "Invitation revoked.",
}
ROLES = [(role.value, role.value.capitalize()) for role in Role]


async def _team_page(
    request: Request,
    sessions: SessionsDep,
    operator: Operator,
    *,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "access/team.html",
        page="team",
        team=await operators.team(sessions, operator),
        roles=ROLES,
        errors=errors or {},
        values=values or {},
        notice=NOTICES.get(request.query_params.get("notice", ""), ""),
        status_code=status_code,
    )


async def _make(
    change: Awaitable[object],
    notice: str,
    request: Request,
    sessions: SessionsDep,
    owner: Operator,
    values: dict[str, str] | None = None,
) -> Response:
    """Makes the change, then back to the team page saying so (a redirect, so reloading it
    does not post again); refused, the team page with the refusal beside its field and the
    API's status for it."""
    try:
        await change
    except ServiceError as refused:
        return await _team_page(
            request,
            sessions,
            owner,
            errors=refusal_errors(refused),
            values=values,
            status_code=STATUS.get(type(refused), 422),
        )
    return RedirectResponse(f"{TEAM}?{urlencode({'notice': notice})}", status_code=303)


@router.get(TEAM)
async def team_page(
    request: Request, operator: CurrentOperator, sessions: SessionsDep
) -> HTMLResponse:
    return await _team_page(request, sessions, operator)


@router.post(f"{TEAM}/invitations")
async def invite_member(
    request: Request,
    owner: OwnerOperator,
    sessions: SessionsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    values = await form_values(request)
    form, errors = checked(InvitationCreate, values)
    if form is None:
        return await _team_page(
            request, sessions, owner, errors=errors, values=values, status_code=422
        )
    change = operator_links.invite(sessions, temporal, settings, owner, form.email, form.role)
    return await _make(change, "invited", request, sessions, owner, values)


@router.post(f"{TEAM}/invitations/{{invitation_id}}/revoke")
async def revoke_invitation(
    request: Request, invitation_id: uuid.UUID, owner: OwnerOperator, sessions: SessionsDep
) -> Response:
    change = operator_links.revoke_invitation(sessions, owner, invitation_id)
    return await _make(change, "revoked", request, sessions, owner)


@router.post(f"{TEAM}/members/{{operator_id}}/role")
async def change_member_role(
    request: Request, operator_id: uuid.UUID, owner: OwnerOperator, sessions: SessionsDep
) -> Response:
    form, errors = checked(RoleChange, await form_values(request))
    if form is None:
        return await _team_page(request, sessions, owner, errors=errors, status_code=422)
    change = operators.change_role(sessions, owner, operator_id, form.role)
    return await _make(change, "role_changed", request, sessions, owner)


@router.post(f"{TEAM}/members/{{operator_id}}/remove")
async def remove_member(
    request: Request, operator_id: uuid.UUID, owner: OwnerOperator, sessions: SessionsDep
) -> Response:
    return await _make(
        operators.remove(sessions, owner, operator_id), "removed", request, sessions, owner
    )


@router.get(PAGES_BY_KEY["audit"].path)
async def audit_page(
    request: Request, operator: CurrentOperator, session: SessionDep, cursor: str | None = None
) -> HTMLResponse:
    try:
        found = await audit.audit_page(session, operator, cursor)
    except ServiceError:  # a cursor this page did not make: start over
        found = await audit.audit_page(session, operator, None)
    return render(request, "access/audit.html", page="audit", audit=found)
