"""Recipient tokens: what the inbox accepts as proof of who is asking (the rules; the signing
and checking are services/inbox_auth.py).

A token is a JWT signed HS256 with one of the tenant's inbox signing secrets: header `kid` names
the secret; claims `sub` (the recipient's external id), `tid` (the tenant's id), `iat`, `exp` and
`aud` = "herald-inbox". Herald issues them (POST /v1/recipients/{external_id}/token), and a
tenant's backend may sign its own with a secret it got from the API.
"""

from dataclasses import dataclass

ALGORITHM = "HS256"
AUDIENCE = "herald-inbox"
REQUIRED_CLAIMS = ("sub", "tid", "iat", "exp", "aud")

MIN_TOKEN_TTL_SECONDS = 60
MAX_TOKEN_TTL_SECONDS = 24 * 3600
DEFAULT_TOKEN_TTL_SECONDS = 3600
# Clocks differ a little between a tenant's backend (which may sign tokens) and Herald: a token
# is accepted this many seconds past its `exp`, and with an `iat` this far ahead.
CLOCK_SKEW_SECONDS = 30

DEFAULT_OVERLAP_SECONDS = 24 * 3600  # a rotated secret stays valid this long beside the new one
MAX_OVERLAP_SECONDS = 30 * 24 * 3600

# The HMAC scheme's headers: HMAC-SHA256(secret, external id), hex, with any valid secret.
TENANT_HEADER = "X-Herald-Tenant"
RECIPIENT_HEADER = "X-Herald-Recipient"
HMAC_HEADER = "X-Herald-Recipient-Hmac"


@dataclass(frozen=True)
class InboxSettings:
    """A tenant's inbox settings (GET/PATCH /v1/settings/inbox); these defaults until set."""

    allowed_origins: tuple[str, ...] = ()  # the origins whose pages may call the inbox (CORS)
    hmac_enabled: bool = False
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
