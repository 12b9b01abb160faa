"""Signing in and out, and the emailed links: /dashboard/login, /logout, /logout/everywhere,
/forgot, /reset/{token}, /invite/{token}. The pages before sign-in; what a session is and how
it is checked: web/auth.py."""

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionsDep, SettingsDep, TemporalDep
from api.schemas.operators import InvitationAcceptance, PasswordChoice, PasswordResetRequest
from services import operator_links
from services.errors import ServiceError, TooManyAttempts
from services.operator_sessions import (
    ChooseTenant,
    SignIn,
    sign_in,
    sign_out,
    sign_out_everywhere,
)
from web.auth import (
    LOGIN_PATH,
    CurrentOperator,
    clear_session_cookie,
    safe_next,
    session_token_of,
    set_session_cookie,
)
from web.forms import FieldErrors, checked, form_values, refusal_errors
from web.pages import PREFIX
from web.templating import render

router = APIRouter(include_in_schema=False)

# What the login page says after a step elsewhere (a fixed text per key: nothing is echoed).
NOTICES = {
    "signed_out": "You are signed out.",
    "signed_out_everywhere": "You are signed out on every device.",
    "joined": "Your account is ready: sign in with your new password.",
    "password_reset": "Your password is changed and every session ended: sign in with it.",
}


def _login_page(
    request: Request,
    *,
    errors: FieldErrors | None = None,
    email: str = "",
    next_path: str = "",
    tenants: list[tuple[str, str]] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    response = render(
        request,
        "access/login.html",
        page=None,
        title="Sign in",
        errors=errors or {},
        email=email,
        next_path=next_path if safe_next(next_path) else "",
        tenants=tenants or [],
        notice=NOTICES.get(request.query_params.get("notice", ""), ""),
        status_code=status_code,
    )
    response.headers.update(headers or {})
    return response


@router.get(f"{PREFIX}/login")
async def login_page(request: Request, next: str = "", email: str = "") -> HTMLResponse:
    return _login_page(request, email=email, next_path=next)


@router.post(f"{PREFIX}/login")
async def log_in(request: Request, sessions: SessionsDep, settings: SettingsDep) -> Response:
    values = await form_values(request)
    email, next_path = values.get("email", ""), values.get("next", "")
    attempt = SignIn(
        email=email,
        password=values.get("password", ""),
        ip_address=request.client.host if request.client else "unknown",
        user_agent=request.headers.get("user-agent"),
        tenant_id=_tenant_choice(values.get("tenant_id", "")),
    )
    try:
        result = await sign_in(sessions, attempt)
    except TooManyAttempts as limited:
        return _login_page(
            request,
            errors=refusal_errors(limited),
            email=email,
            next_path=next_path,
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
        )
    except ServiceError as refused:
        return _login_page(
            request, errors=refusal_errors(refused), email=email, next_path=next_path,
            status_code=422,
        )  # fmt: skip
    if isinstance(result, ChooseTenant):
        choices = [(str(tenant_id), name) for tenant_id, name in result.tenants]
        return _login_page(request, email=email, next_path=next_path, tenants=choices)
    response = RedirectResponse(next_path if safe_next(next_path) else PREFIX, status_code=303)
    set_session_cookie(response, settings, result.token)
    return response


def _tenant_choice(value: str) -> uuid.UUID | None:
    """The tenant picked on the login page when the email has accounts in several."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.post(f"{PREFIX}/logout")
async def log_out(request: Request, sessions: SessionsDep, settings: SettingsDep) -> Response:
    """Ends this browser's session (a stale one too: the cookie goes either way)."""
    token = session_token_of(request)
    if token:
        await sign_out(sessions, token)
    response = RedirectResponse(f"{LOGIN_PATH}?notice=signed_out", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.post(f"{PREFIX}/logout/everywhere")
async def log_out_everywhere(
    operator: CurrentOperator, sessions: SessionsDep, settings: SettingsDep
) -> Response:
    """Ends every session of the operator, on every device, this one included."""
    await sign_out_everywhere(sessions, operator)
    response = RedirectResponse(f"{LOGIN_PATH}?notice=signed_out_everywhere", status_code=303)
    clear_session_cookie(response, settings)
    return response


# Invitations


@router.get(f"{PREFIX}/invite/{{token}}")
async def invitation_page(request: Request, token: str, sessions: SessionsDep) -> HTMLResponse:
    found = await operator_links.invitation(sessions, token)
    if found is None:
        return _link_gone(request, "invitation", "Ask an owner of the team to invite you again.")
    return _invitation_form(request, found, {}, {})


def _invitation_form(
    request: Request,
    found: operator_links.InvitationView,
    values: dict[str, str],
    errors: FieldErrors,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "access/invitation.html",
        page=None,
        title=f"Join {found.team_name}",
        invitation=found,
        values=values,
        errors=errors,
        status_code=status_code,
    )


@router.post(f"{PREFIX}/invite/{{token}}")
async def accept_invitation(request: Request, token: str, sessions: SessionsDep) -> Response:
    found = await operator_links.invitation(sessions, token)
    if found is None:
        return _link_gone(request, "invitation", "Ask an owner of the team to invite you again.")
    values = await form_values(request)
    form, errors = checked(InvitationAcceptance, values)
    if form is None:
        return _invitation_form(request, found, values, errors, 422)
    try:
        joined = await operator_links.accept_invitation(sessions, token, form.name, form.password)
    except ServiceError as refused:
        return _invitation_form(request, found, values, refusal_errors(refused), 409)
    query = urlencode({"notice": "joined", "email": joined.email})
    return RedirectResponse(f"{LOGIN_PATH}?{query}", status_code=303)


def _link_gone(request: Request, what: str, next_step: str) -> HTMLResponse:
    return render(
        request,
        "access/link_gone.html",
        page=None,
        title="This link no longer works",
        what=what,
        next_step=next_step,
        status_code=410,
    )


# Forgotten passwords


@router.get(f"{PREFIX}/forgot")
async def forgot_password_page(request: Request) -> HTMLResponse:
    return _forgot_form(request, {}, {})


def _forgot_form(
    request: Request,
    values: dict[str, str],
    errors: FieldErrors,
    sent: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "access/forgot.html",
        page=None,
        title="Forgot your password?",
        values=values,
        errors=errors,
        sent=sent,
        status_code=status_code,
    )


@router.post(f"{PREFIX}/forgot")
async def request_password_reset(
    request: Request, sessions: SessionsDep, temporal: TemporalDep, settings: SettingsDep
) -> HTMLResponse:
    """The same answer whether or not an account has the address."""
    values = await form_values(request)
    form, errors = checked(PasswordResetRequest, values)
    if form is None:
        return _forgot_form(request, values, errors, status_code=422)
    await operator_links.request_password_reset(sessions, temporal, settings, form.email)
    return _forgot_form(request, values, {}, sent=True)


@router.get(f"{PREFIX}/reset/{{token}}")
async def reset_password_page(request: Request, token: str, sessions: SessionsDep) -> HTMLResponse:
    if not await operator_links.reset_link_works(sessions, token):
        return _link_gone(request, "password reset", "Ask for a new one.")
    return _reset_form(request, {})


def _reset_form(request: Request, errors: FieldErrors, status_code: int = 200) -> HTMLResponse:
    return render(
        request,
        "access/reset.html",
        page=None,
        title="Choose a new password",
        errors=errors,
        status_code=status_code,
    )


@router.post(f"{PREFIX}/reset/{{token}}")
async def reset_password(request: Request, token: str, sessions: SessionsDep) -> Response:
    form, errors = checked(PasswordChoice, await form_values(request))
    if form is None:
        return _reset_form(request, errors, 422)
    try:
        operator = await operator_links.reset_password(sessions, token, form.password)
    except ServiceError:
        return _link_gone(request, "password reset", "Ask for a new one.")
    query = urlencode({"notice": "password_reset", "email": operator.email})
    return RedirectResponse(f"{LOGIN_PATH}?{query}", status_code=303)
