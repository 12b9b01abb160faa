"""Signed-in dashboard clients for tests: an operator made and signed in by Herald's own service
functions (services/operators.py, services/operator_sessions.py), the session cookie signed as
web/auth.py signs it. Nothing about access is faked."""

import uuid
from dataclasses import dataclass

import httpx

from config.settings import Settings
from domain.operators import Operator, Role, signed_session
from services.operator_sessions import SignedIn, SignIn, sign_in
from services.operators import NewOperator, create_operator
from web.auth import session_cookie_name

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class SignedInOperator:
    operator: Operator
    cookies: dict[str, str]  # the browser's session cookie


async def signed_in_operator(
    sessions, settings: Settings, tenant_id: uuid.UUID, role: Role = Role.OWNER
) -> SignedInOperator:
    """A new operator of the tenant, signed in with their password."""
    email = f"operator-{uuid.uuid4().hex[:8]}@example.com"
    await create_operator(
        sessions,
        NewOperator(tenant_id, email, f"Ada {role.value.title()}", role, PASSWORD),
        actor="tests",
    )
    signed = await sign_in(sessions, SignIn(email, PASSWORD, ip_address="127.0.0.1"))
    assert isinstance(signed, SignedIn), signed
    cookie = signed_session(settings.signing_key(), signed.token)
    return SignedInOperator(signed.operator, {session_cookie_name(settings): cookie})


def dashboard_client(app, cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
    """A browser-like client of the app in-process: cookies, no API key, redirects not followed."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://herald", cookies=cookies
    )
