"""Herald's VAPID key pair (RFC 8292), which signs every Web Push request and which browsers
subscribe with (the public key is the Push API's `applicationServerKey`).

One pair for the whole installation, made on first need (a worker starting, or the widget
asking for the public key) and kept in the database: the private key sealed with a key derived
from SECRET_KEY (services/inbox_secrets.SecretBox), so a copy of the database alone cannot
sign pushes. Changing SECRET_KEY leaves the sealed key unopenable: Web Push then stops (the
worker logs why) until SECRET_KEY is restored. A new pair would not help: every browser
subscribed with the old public key, and push services refuse another one's signature.
"""

import base64
import logging
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from db import vapid_keys as db
from services.errors import Unavailable
from services.inbox_secrets import secret_box

log = logging.getLogger("herald.vapid")

# The sealed private key's associated data: not a tenant's, Herald's own.
VAPID_TENANT = uuid.UUID(int=0)
VAPID_KID = "vapid"


@dataclass(frozen=True)
class VapidKeys:
    public_key: str  # base64url (no padding) of the uncompressed P-256 point: 65 bytes
    private_key_pem: str  # PKCS#8 PEM


async def vapid_keys(session: AsyncSession, settings: Settings) -> VapidKeys:
    """The key pair, made and stored first when there is none. Unavailable when SECRET_KEY is
    not set, or is not the one the stored key was sealed with. `session`: not in a transaction."""
    box = secret_box(settings)
    stored = await _stored_or_new(session, settings)
    try:
        private_pem = box.open(VAPID_TENANT, VAPID_KID, stored.private_key_sealed)
    except Unavailable as exc:
        raise Unavailable(
            "the stored VAPID key does not open with this SECRET_KEY: web push is off until "
            "the SECRET_KEY it was sealed with is restored"
        ) from exc
    return VapidKeys(stored.public_key, private_pem)


async def public_vapid_key(session: AsyncSession, settings: Settings) -> str:
    """What browsers subscribe with (made first when there is none)."""
    return (await _stored_or_new(session, settings)).public_key


async def provider_values(session: AsyncSession, settings: Settings) -> dict[str, str]:
    """The key pair as the webpush provider's build reads it (config.providers.build_providers'
    `extra`), or nothing when it cannot be had: web push then refuses its sends, saying why,
    and every other channel works."""
    try:
        keys = await vapid_keys(session, settings)
    except Unavailable as exc:
        log.warning("web push is off: %s", exc.message)
        return {}
    return {"vapid_private_key": keys.private_key_pem, "vapid_public_key": keys.public_key}


async def _stored_or_new(session: AsyncSession, settings: Settings) -> db.StoredVapidKeys:
    stored = await db.stored_vapid_keys(session)
    if stored is None:
        public_key, private_pem = new_key_pair()
        sealed = secret_box(settings).seal(VAPID_TENANT, VAPID_KID, private_pem)
        await db.add_vapid_keys_if_absent(session, public_key, sealed)
        # Ours, or the pair another process stored first (READ COMMITTED: this statement sees
        # what committed while the insert waited for it).
        stored = await db.stored_vapid_keys(session)
    await session.commit()
    assert stored is not None  # stored above, and never deleted
    return stored


def new_key_pair() -> tuple[str, str]:
    """(the public key, base64url; the private key, PEM): a new P-256 pair."""
    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode(), pem.decode()
