"""Dependencies injected into routes, as `Annotated` aliases tests can override."""

import hmac
import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client

from api.errors import ApiError, field_error
from api.inbox_cors import allow_origins
from config.settings import Settings
from domain.inbox import InboxRecipient
from domain.inbox_tokens import HMAC_HEADER
from domain.tenants import TenantIdentity
from services.auth import ApiKeyCache, authenticate_key
from services.inbox_auth import (
    NotAuthenticated,
    recipient_from_hmac,
    recipient_from_token,
    tenant_inbox_settings,
)
from services.inbox_cache import InboxAuthCache


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


# Plain lookups, declared async so FastAPI calls them inline: it would run a sync
# dependency in a thread pool, a thread hop per request for nothing.
async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessions


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_temporal(request: Request) -> Client:
    return request.app.state.temporal


async def get_api_key_cache(request: Request) -> ApiKeyCache:
    return request.app.state.api_keys


_bearer = HTTPBearer(auto_error=False)


def unauthorized(message: str, token_error: str | None = None) -> ApiError:
    """401 with the challenge RFC 9110 requires on it: the Bearer scheme (RFC 6750), and
    `error="invalid_token"` when a key was sent but is not valid."""
    challenge = 'Bearer realm="herald"'
    if token_error:
        challenge += f', error="{token_error}"'
    return ApiError(401, "unauthorized", message, "Authorization", {"WWW-Authenticate": challenge})


async def get_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TenantIdentity:
    if credentials is None:
        raise unauthorized("Authorization: send 'Bearer <api key>'")
    owner = await authenticate_key(
        request.app.state.sessions, request.app.state.api_keys, credentials.credentials
    )
    if owner is None:
        raise unauthorized("Authorization: the API key is not valid", "invalid_token")
    request.state.api_key_id = owner.key_id
    return owner.tenant


async def get_api_key_id(
    request: Request, tenant: Annotated[TenantIdentity, Depends(get_tenant)]
) -> uuid.UUID:
    """The id of the key the request came with (what records who asked, as an erasure does)."""
    key_id: uuid.UUID = request.state.api_key_id  # set by get_tenant, which this depends on
    return key_id


async def require_operator(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The operator's routes (/metrics, /v1/health/details) show every tenant's traffic, so
    they take METRICS_TOKEN, never a tenant's API key; with no token set they do not exist."""
    if settings.metrics_token is None:
        raise StarletteHTTPException(404)  # as if there were no such route
    if credentials is None:
        raise unauthorized("Authorization: send 'Bearer <METRICS_TOKEN>'")
    expected = settings.metrics_token.get_secret_value().encode()
    if not hmac.compare_digest(credentials.credentials.encode(), expected):  # constant time
        raise unauthorized("Authorization: the metrics token is not valid", "invalid_token")


async def get_inbox_auth_cache(request: Request) -> InboxAuthCache:
    return request.app.state.inbox_auth


async def _inbox_recipient(request: Request, token: str | None) -> InboxRecipient:
    """The recipient a token (or, where the tenant enabled it, the HMAC scheme's headers)
    proves (services/inbox_auth.py); 401 otherwise. A tenant's API key is not a recipient token.
    Records the tenant's allowed origins for the inbox's CORS (api/inbox_cors.py)."""
    state = request.app.state
    try:
        if token is not None:
            found = await recipient_from_token(
                state.sessions, state.settings, state.inbox_auth, token
            )
        elif HMAC_HEADER in request.headers:
            found = await recipient_from_hmac(
                state.sessions, state.settings, state.inbox_auth, dict(request.headers)
            )
        else:
            raise unauthorized("Authorization: send 'Bearer <recipient token>'")
    except NotAuthenticated as exc:
        if exc.tenant_id is not None:  # genuinely the tenant's: its page may read the 401
            await _allow_tenant_origins(request, exc.tenant_id)
        raise unauthorized(f"Authorization: {exc.message}", "invalid_token") from None
    await _allow_tenant_origins(request, found.tenant_id)
    return found


async def _allow_tenant_origins(request: Request, tenant_id: uuid.UUID) -> None:
    state = request.app.state
    settings = await tenant_inbox_settings(state.sessions, state.inbox_auth, tenant_id)
    allow_origins(request, settings.allowed_origins)


async def get_inbox_recipient(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> InboxRecipient:
    return await _inbox_recipient(request, credentials.credentials if credentials else None)


async def get_inbox_stream_recipient(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    token: Annotated[
        str | None,
        Query(
            max_length=4096,
            description="The recipient token, for EventSource clients, which cannot send "
            "headers. It may end up in access logs: prefer the Authorization header.",
        ),
    ] = None,
) -> InboxRecipient:
    """As get_inbox_recipient, and `?token=` too: for GET /v1/inbox/stream only."""
    return await _inbox_recipient(request, credentials.credentials if credentials else token)


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


async def get_idempotency_key(
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> str | None:
    """The request's Idempotency-Key (POST /v1/notifications, /v1/broadcasts): the same key
    answers what the first request made; none, and Herald draws one."""
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise field_error(
            "Idempotency-Key", "must be 1-255 visible ASCII characters without spaces"
        )
    return idempotency_key


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
TenantDep = Annotated[TenantIdentity, Depends(get_tenant)]
ApiKeyIdDep = Annotated[uuid.UUID, Depends(get_api_key_id)]
ApiKeyCacheDep = Annotated[ApiKeyCache, Depends(get_api_key_cache)]
OperatorDep = Annotated[None, Depends(require_operator)]
InboxAuthCacheDep = Annotated[InboxAuthCache, Depends(get_inbox_auth_cache)]
IdempotencyKeyDep = Annotated[str | None, Depends(get_idempotency_key)]
# The recipient asking on an inbox route (a recipient token, or the HMAC scheme's headers).
InboxRecipientDep = Annotated[InboxRecipient, Depends(get_inbox_recipient)]
# The same, also taking `?token=`: GET /v1/inbox/stream only (EventSource sends no headers).
InboxStreamRecipientDep = Annotated[InboxRecipient, Depends(get_inbox_stream_recipient)]
