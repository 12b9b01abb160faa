"""Who is asking on an inbox route: a recipient, proven by a recipient token or, where the tenant
enabled it, by an HMAC of its id; and the tokens Herald issues.

A token (domain/inbox_tokens.py) is accepted when its `kid` names a valid signing secret, the
signature verifies with it (HS256 only: `alg: none` or any other is refused), `aud` is
herald-inbox, it has not expired (CLOCK_SKEW_SECONDS allowed), it lives at most 24 hours, the
tenant in `tid` owns the secret, and the recipient in `sub` exists in that tenant. What that
reads is cached per process (services/inbox_cache.py), so a stream or request costs no database
read for it once warm; a revoked secret stops working within API_KEY_CACHE_SECONDS.
"""

import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime

import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schemas.recipient_tokens import RecipientToken
from config.settings import Settings
from db import inbox_secrets as secrets_db
from db.api_keys import KEY_PREFIX
from db.recipients import get_recipient
from domain.inbox import InboxRecipient
from domain.inbox_tokens import (
    ALGORITHM,
    AUDIENCE,
    CLOCK_SKEW_SECONDS,
    HMAC_HEADER,
    MAX_TOKEN_TTL_SECONDS,
    RECIPIENT_HEADER,
    REQUIRED_CLAIMS,
    TENANT_HEADER,
    InboxSettings,
)
from domain.tenants import TenantIdentity
from services.errors import NotFound
from services.inbox_cache import InboxAuthCache, Secret
from services.inbox_secrets import opened, secret_box, signing_secret
from services.inbox_settings import load_inbox_settings

Sessions = async_sessionmaker[AsyncSession]


class NotAuthenticated(Exception):
    """The credentials prove no recipient (401). `tenant_id` is set when they were genuinely
    the tenant's (an expired token, say): its page may then read the refusal (CORS)."""

    def __init__(self, message: str, tenant_id: uuid.UUID | None = None):
        super().__init__(message)
        self.message = message
        self.tenant_id = tenant_id


async def issue_token(
    session: AsyncSession,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    ttl_seconds: int | None,
) -> RecipientToken:
    """A token for the tenant's recipient, signed with the tenant's newest secret (created on
    first need); 404 if there is no such recipient."""
    async with session.begin():
        recipient = await get_recipient(session, tenant.id, external_id)
        if recipient is None:
            raise NotFound(f"recipient {external_id} not found")
        if ttl_seconds is None:
            ttl_seconds = (await load_inbox_settings(session, tenant.id)).token_ttl_seconds
        secret = await signing_secret(session, settings, tenant.id)
    issued_at = int(time.time())
    claims = {
        "sub": external_id,
        "tid": str(tenant.id),
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "aud": AUDIENCE,
    }
    token = jwt.encode(claims, secret.value, algorithm=ALGORITHM, headers={"kid": secret.kid})
    return RecipientToken(
        token=token,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),  # type: ignore[arg-type]
        recipient_id=recipient.id,
        tenant_id=tenant.id,
    )


async def recipient_from_token(
    sessions: Sessions, settings: Settings, cache: InboxAuthCache, token: str
) -> InboxRecipient:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        if token.startswith(KEY_PREFIX):
            raise NotAuthenticated(
                "an API key is not a recipient token: the tenant's backend gets one from "
                "POST /v1/recipients/{external_id}/token"
            ) from None
        raise NotAuthenticated("the token is not a recipient token (a JWT)") from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise NotAuthenticated(f"the token must be signed {ALGORITHM} and name its secret (kid)")
    secret = await _secret(sessions, settings, cache, kid)
    if secret is None:
        raise NotAuthenticated("the token's signing secret (kid) is unknown, expired or revoked")
    try:
        claims = jwt.decode(
            token,
            secret.value,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.InvalidSignatureError:
        raise NotAuthenticated("the token's signature is not valid") from None
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("the token has expired", secret.tenant_id) from None
    except jwt.InvalidTokenError as exc:  # signed by the secret, so genuinely the tenant's
        raise NotAuthenticated(f"the token is not valid: {exc}", secret.tenant_id) from None
    if _uuid(claims["tid"]) != secret.tenant_id:
        raise NotAuthenticated("the token's tenant (tid) does not own its signing secret")
    if not isinstance(claims["exp"], int) or not isinstance(claims["iat"], int):
        raise NotAuthenticated("the token's exp and iat must be whole seconds", secret.tenant_id)
    if claims["exp"] - claims["iat"] > MAX_TOKEN_TTL_SECONDS:
        raise NotAuthenticated("the token lives longer than 24 hours", secret.tenant_id)
    recipient = await _recipient(sessions, cache, secret.tenant_id, claims["sub"])
    return InboxRecipient(
        recipient.tenant_id,
        recipient.recipient_id,
        recipient.external_id,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


async def recipient_from_hmac(
    sessions: Sessions, settings: Settings, cache: InboxAuthCache, headers: dict[str, str]
) -> InboxRecipient:
    """The HMAC scheme: X-Herald-Tenant, X-Herald-Recipient and X-Herald-Recipient-Hmac (hex
    HMAC-SHA256 of the external id under any valid secret), where the tenant enabled it."""
    tenant_id = _uuid(headers.get(TENANT_HEADER.lower()))
    external_id = headers.get(RECIPIENT_HEADER.lower())
    mac = headers.get(HMAC_HEADER.lower(), "").strip().lower()
    if tenant_id is None or not external_id:
        raise NotAuthenticated(
            f"the HMAC scheme needs {TENANT_HEADER} (the tenant's id), {RECIPIENT_HEADER} and "
            f"{HMAC_HEADER}"
        )
    if not (await tenant_inbox_settings(sessions, cache, tenant_id)).hmac_enabled:
        raise NotAuthenticated("the HMAC scheme is not enabled for this tenant")
    valid = await _tenant_secrets(sessions, settings, cache, tenant_id)
    if not any(hmac.compare_digest(mac, recipient_hmac(s.value, external_id)) for s in valid):
        raise NotAuthenticated(f"{HMAC_HEADER} does not match the recipient")
    return await _recipient(sessions, cache, tenant_id, external_id)


def recipient_hmac(secret: str, external_id: str) -> str:
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


async def tenant_inbox_settings(
    sessions: Sessions, cache: InboxAuthCache, tenant_id: uuid.UUID
) -> InboxSettings:
    """The tenant's inbox settings, as this process remembers them (the CORS origins, say)."""
    found = cache.settings.get(tenant_id)
    if found is None:
        async with sessions() as session:
            found = await load_inbox_settings(session, tenant_id)
        cache.settings.put(tenant_id, found)
    return found


async def _secret(
    sessions: Sessions, settings: Settings, cache: InboxAuthCache, kid: str
) -> Secret | None:
    found = cache.secrets.get(kid)
    if found is None:
        async with sessions() as session:  # its own short session: a stream holds none
            row = await secrets_db.valid_secret(session, kid)
        if row is None:
            return None
        found = opened(secret_box(settings), row)
        cache.secrets.put(kid, found, until=found.expires_at)
    return found


async def _tenant_secrets(
    sessions: Sessions, settings: Settings, cache: InboxAuthCache, tenant_id: uuid.UUID
) -> tuple[Secret, ...]:
    found = cache.tenant_secrets.get(tenant_id)
    if found is None:
        async with sessions() as session:
            rows = await secrets_db.valid_tenant_secrets(session, tenant_id)
        found = tuple(opened(secret_box(settings), row) for row in rows)
        ends = [s.expires_at for s in found if s.expires_at is not None]
        cache.tenant_secrets.put(tenant_id, found, until=min(ends, default=None))
    return found


async def _recipient(
    sessions: Sessions, cache: InboxAuthCache, tenant_id: uuid.UUID, external_id: object
) -> InboxRecipient:
    if not isinstance(external_id, str) or not external_id:
        raise NotAuthenticated("the token's recipient (sub) must be its external id")
    recipient_id = cache.recipients.get((tenant_id, external_id))
    if recipient_id is None:
        async with sessions() as session:
            row = await get_recipient(session, tenant_id, external_id)
        if row is None:
            raise NotAuthenticated("the token's recipient does not exist", tenant_id)
        recipient_id = row.id
        cache.recipients.put((tenant_id, external_id), recipient_id)
    return InboxRecipient(tenant_id, recipient_id, external_id)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None
