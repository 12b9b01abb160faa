"""Dependencies injected into routes, as `Annotated` aliases tests can override."""

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client

from api.errors import ApiError
from config.settings import Settings
from domain.tenants import TenantIdentity
from services.auth import ApiKeyCache, authenticate


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
    tenant = await authenticate(
        request.app.state.sessions, request.app.state.api_keys, credentials.credentials
    )
    if tenant is None:
        raise unauthorized("Authorization: the API key is not valid", "invalid_token")
    return tenant


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


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
TenantDep = Annotated[TenantIdentity, Depends(get_tenant)]
ApiKeyCacheDep = Annotated[ApiKeyCache, Depends(get_api_key_cache)]
OperatorDep = Annotated[None, Depends(require_operator)]
