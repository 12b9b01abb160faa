"""Recipients with inbox tokens, for every inbox test: `token = await recipient_token(stack.api,
"ann")` creates (or updates) the recipient through the tenant's API and returns its token.

    from tests.e2e.inbox_factory import as_recipient, recipient_token
    token = await recipient_token(stack.api, "ann")
    inbox = as_recipient(stack, token)        # an httpx client sending `Bearer <token>`
    response = await inbox.get("/v1/inbox")
"""

import uuid

import httpx

from tests.conftest import Stack


async def recipient_token(
    api: httpx.AsyncClient,
    external_id: str | None = None,
    email: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """Creates the recipient (a fresh external id when none is given; email
    `<external id>@example.com` unless given) and returns a token for it, issued by Herald
    (POST /v1/recipients/{external_id}/token) with the tenant key `api` sends."""
    return (await recipient_token_answer(api, external_id, email, ttl_seconds))["token"]


async def recipient_token_answer(
    api: httpx.AsyncClient,
    external_id: str | None = None,
    email: str | None = None,
    ttl_seconds: int | None = None,
) -> dict:
    """As recipient_token, the whole answer: token, expires_at, recipient_id, tenant_id."""
    external_id = external_id or f"inbox-{uuid.uuid4().hex[:10]}"
    put = await api.put(
        f"/v1/recipients/{external_id}", json={"email": email or f"{external_id}@example.com"}
    )
    assert put.status_code in (200, 201), put.text
    body = {"ttl_seconds": ttl_seconds} if ttl_seconds is not None else None
    issued = await api.post(f"/v1/recipients/{external_id}/token", json=body)
    assert issued.status_code == 201, issued.text
    return issued.json()


def as_recipient(stack: Stack, token: str) -> httpx.AsyncClient:
    """A client of the stack's API sending `Authorization: Bearer <token>` (close it, or use it
    in `async with`)."""
    return httpx.AsyncClient(
        transport=stack.api._transport,
        base_url="http://herald",
        headers={"Authorization": f"Bearer {token}"},
    )
