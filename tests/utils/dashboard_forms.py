"""Filling in the dashboard's forms as a browser does: the page's CSRF token read from the page
and sent with the form, cookies kept, redirects not followed, from a client address of the
test's choosing (sign-in limits count per address)."""

import html
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from domain.operators import Operator, Role
from services.operators import NewOperator, create_operator

PASSWORD = "a long enough passphrase"  # every operator new_operator makes
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser_client(
    app, ip_address: str | None = None, base_url: str = "http://herald"
) -> httpx.AsyncClient:
    """A browser of its own (own cookies) at its own client address (default: a random one);
    an https `base_url` for Secure cookies to be sent back."""
    address = ip_address or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url=base_url,
    )


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found, "no csrf_token field on the page"
    return html.unescape(found.group(1))


async def submit(
    client: httpx.AsyncClient, page_path: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    """Opens `page_path` and posts `fields` to `action` with the page's CSRF token."""
    page = await client.get(page_path)
    assert page.status_code == 200, (page_path, page.status_code, page.text[:500])
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **fields})


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await submit(
        client, "/dashboard/login", "/dashboard/login", {"email": email, "password": password}
    )


def field_error(page: str, field: str) -> str:
    """The problem shown beside a field of a form page."""
    found = re.search(rf'<p class="field-error" id="error-{field}">([^<]*)</p>', page)
    assert found, f"no problem shown beside {field}"
    return html.unescape(found.group(1))


async def new_operator(
    sessions, tenant_id: uuid.UUID, role: Role = Role.OWNER, name: str = "Ada"
) -> Operator:
    """An operator of the tenant with PASSWORD, made as `herald user create` makes one."""
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
    return await create_operator(
        sessions, NewOperator(tenant_id, email, name, role, PASSWORD), actor="tests"
    )


@asynccontextmanager
async def signed_in(app, operator: Operator) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as the operator through the login form."""
    async with browser_client(app) as browser:
        response = await log_in(browser, operator.email, PASSWORD)
        assert response.status_code == 303, response.text
        yield browser
