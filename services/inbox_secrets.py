"""A tenant's inbox signing secrets: created on first need, rotated, listed, revoked; sealed at
rest.

- A secret signs recipient tokens (JWT HS256) and the HMAC scheme's recipient ids. Herald signs
  its own tokens with the newest; every valid one verifies.
- Rotating creates a new secret, shown once, and gives the previous newest `overlap_seconds` more
  (default a day): during the overlap both are valid, so a backend that signs its own tokens
  moves over without a gap.
- Revoking ends a secret at once on this process and within API_KEY_CACHE_SECONDS on every other
  (services/inbox_cache.py); the tokens it signed stop working with it.
- At rest a secret is sealed with AES-256-GCM under a key derived from SECRET_KEY, so a copy of
  the database alone does not let anyone sign tokens. (Unlike an API key it cannot be stored as
  a digest: verifying an HMAC needs the secret itself.)
"""

import base64
import os
import secrets
import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.inbox_settings import (
    SigningSecretCreated,
    SigningSecretPublic,
    SigningSecretsPublic,
)
from config.settings import Settings
from db import inbox_secrets as db
from db.api_keys import database_now
from db.inbox_models import InboxSigningSecret
from domain.tenants import TenantIdentity
from services.errors import NotFound, Unavailable
from services.inbox_cache import InboxAuthCache, Secret
from services.pages import decode_cursor, page

SECRET_PREFIX = "hisk_"  # Herald inbox signing key: recognisable in a leaked config file
KID_PREFIX = "kid_"
SEALED_PREFIX = "v1."
NONCE_BYTES = 12


class SecretBox:
    """Seals secrets with AES-256-GCM. The tenant and kid are the associated data: a sealed
    secret copied into another tenant's row does not open."""

    def __init__(self, master_key: bytes):
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"herald inbox signing secrets"
        ).derive(master_key)
        self._cipher = AESGCM(key)

    def seal(self, tenant_id: uuid.UUID, kid: str, secret: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher.encrypt(nonce, secret.encode(), _associated(tenant_id, kid))
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, tenant_id: uuid.UUID, kid: str, sealed: str) -> str:
        data = base64.urlsafe_b64decode(sealed.removeprefix(SEALED_PREFIX))
        try:
            plain = self._cipher.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], _associated(tenant_id, kid)
            )
        except InvalidTag as exc:  # SECRET_KEY changed, or the row was tampered with
            raise Unavailable(
                f"inbox signing secret {kid} does not open with this SECRET_KEY"
            ) from exc
        return plain.decode()


def _associated(tenant_id: uuid.UUID, kid: str) -> bytes:
    return f"{tenant_id}/{kid}".encode()


@lru_cache(maxsize=4)
def _box(master_key: bytes) -> SecretBox:
    return SecretBox(master_key)


def secret_box(settings: Settings) -> SecretBox:
    try:
        return _box(settings.signing_key())
    except ValueError as exc:
        raise Unavailable("SECRET_KEY must be set (16+ characters) for recipient tokens") from exc


def opened(box: SecretBox, row: db.SealedSecret | InboxSigningSecret) -> Secret:
    sealed = row.sealed if isinstance(row, db.SealedSecret) else row.secret
    return Secret(row.kid, row.tenant_id, box.open(row.tenant_id, row.kid, sealed), row.expires_at)


async def _add(
    session: AsyncSession, box: SecretBox, tenant_id: uuid.UUID
) -> tuple[str, InboxSigningSecret]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    kid = KID_PREFIX + secrets.token_hex(8)
    row = await db.add_secret(session, tenant_id, kid, box.seal(tenant_id, kid, secret))
    return secret, row


async def signing_secret(session: AsyncSession, settings: Settings, tenant_id: uuid.UUID) -> Secret:
    """The secret Herald signs the tenant's tokens with: its newest, created on first need.
    Runs in the caller's transaction."""
    box = secret_box(settings)
    row = await db.newest_secret(session, tenant_id)
    if row is None:
        await db.lock_tenant_secrets(session, tenant_id)
        row = await db.newest_secret(session, tenant_id)  # made while this one waited?
        if row is None:
            _, row = await _add(session, box, tenant_id)
    return opened(box, row)


async def rotate_secret(
    session: AsyncSession,
    settings: Settings,
    cache: InboxAuthCache,
    tenant: TenantIdentity,
    overlap_seconds: int,
) -> SigningSecretCreated:
    """A new newest secret (shown in the answer, and never again); the previous newest stays
    valid `overlap_seconds` more."""
    box = secret_box(settings)
    async with session.begin():
        await db.lock_tenant_secrets(session, tenant.id)
        previous = await db.newest_secret(session, tenant.id)
        if previous is not None:
            now = await database_now(session)
            previous.expires_at = now + timedelta(seconds=overlap_seconds)
        secret, row = await _add(session, box, tenant.id)
        answer = SigningSecretCreated(
            **_public(row).model_dump(),
            secret=secret,
            tenant_id=tenant.id,
            previous=_public(previous) if previous is not None else None,
        )
    cache.forget_secrets(tenant.id, *([previous.kid] if previous is not None else []))
    return answer


async def list_secrets(
    session: AsyncSession, tenant: TenantIdentity, cursor: str | None, limit: int
) -> SigningSecretsPublic:
    after = decode_cursor(cursor, datetime, uuid.UUID)
    rows = await db.tenant_secrets(session, tenant.id, after, limit + 1)
    shown, next_cursor = page(rows, limit, lambda row: (row.created_at, row.id))
    return SigningSecretsPublic(data=[_public(row) for row in shown], next_cursor=next_cursor)


async def revoke_secret(
    session: AsyncSession, cache: InboxAuthCache, tenant: TenantIdentity, kid: str
) -> SigningSecretPublic:
    """Revoke the secret now; revoking a revoked one changes nothing (and answers as it is).
    Revoking the newest leaves Herald none to sign with: the next token it issues creates one."""
    async with session.begin():
        await db.lock_tenant_secrets(session, tenant.id)
        row = await db.tenant_secret(session, tenant.id, kid)
        if row is None:  # another tenant's secret is not found either
            raise NotFound(f"signing secret {kid} not found")
        if row.revoked_at is None:
            row.revoked_at = await database_now(session)
        answer = _public(row)
    cache.forget_secrets(tenant.id, kid)
    return answer


def _public(row: InboxSigningSecret) -> SigningSecretPublic:
    return SigningSecretPublic(
        kid=row.kid, created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at
    )
