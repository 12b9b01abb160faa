"""Signed-in dashboard sessions for tests and benchmarks that need the cookie itself (a real
browser's context, a client of the app in-process): an operator made as `herald user create`
makes one (tests/utils/dashboard_forms.new_operator), signed in by Herald's own service
(services/operator_sessions.sign_in), the cookie signed as web/auth.py signs it. To go through
the sign-in form instead: tests/utils/dashboard_forms.signed_in."""

import uuid
from dataclasses import dataclass

import httpx

from config.settings import Settings
from domain.operators import Operator, Role, signed_session
from services.operator_sessions import SignedIn, SignIn, sign_in
from tests.utils.dashboard_forms import PASSWORD, new_operator
from web.auth import session_cookie_name


@dataclass(frozen=True)
class SignedInOperator:
    operator: Operator
    cookies: dict[str, str]  # the browser's session cookie


async def signed_in_operator(
    sessions, settings: Settings, tenant_id: uuid.UUID, role: Role = Role.OWNER
) -> SignedInOperator:
    """A new operator of the tenant, signed in with their password."""
    operator = await new_operator(sessions, tenant_id, role, name=f"Ada {role.value.title()}")
    signed = await sign_in(sessions, SignIn(operator.email, PASSWORD, ip_address="127.0.0.1"))
    assert isinstance(signed, SignedIn), signed
    cookie = signed_session(settings.signing_key(), signed.token)
    return SignedInOperator(signed.operator, {session_cookie_name(settings): cookie})


def dashboard_client(app, cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
    """A browser-like client of the app in-process: cookies, no API key, redirects not followed."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://herald", cookies=cookies
    )
