"""What the receivers a tenant gives Herald to POST to (the webhook channel, status webhook
endpoints) share: the check of their URL, and the hint of their signing secret.

- A URL is checked when it is set: refused (422 naming `url`, nothing written) unless it is
  https (http only with WEBHOOK_ALLOW_PRIVATE_ADDRESSES), carries no user, password or
  fragment, and its host resolves now to public addresses only (channels/safe_http.py). Each
  send checks it again: a name's DNS answer may change after it was stored.
- A secret is shown once; afterwards only its hint, `whsec_…` and its last characters.
"""

import uuid
from urllib.parse import urlsplit

from channels.base import TransientSendError
from channels.safe_http import RefusedAddress, resolve_checked
from config.settings import Settings
from domain import standard_webhooks
from services.errors import ServiceError, invalid_field
from services.inbox_secrets import secret_box

HINT_CHARS = 4


async def check_url(url: str, allow_private: bool) -> None:
    """Refuses (422 naming `url`) a URL Herald would not call; see the module's doc."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError as exc:
        raise invalid_field("url", f"is not a URL: {exc}") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        wanted = "http(s)" if allow_private else "https"
        raise invalid_field("url", f"must be an {wanted} URL with a host")
    if parts.username is not None or parts.password is not None:
        raise invalid_field("url", "may not carry a user or password")
    if parts.fragment or url.endswith("#"):
        raise invalid_field("url", "may not have a fragment (#...): it is never sent")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise invalid_field("url", "may not contain spaces or control characters")
    try:
        await resolve_checked(url, allow_private)
    except RefusedAddress as exc:
        raise invalid_field("url", exc.message) from None
    except TransientSendError as exc:
        raise invalid_field("url", f"its host does not resolve now ({exc.message})") from None


def secret_hint(settings: Settings, tenant_id: uuid.UUID, kid: str, sealed: str) -> str | None:
    """`whsec_…` and the secret's last characters; None when it does not open (SECRET_KEY
    changed): the tenant can still see its receiver and rotate the secret."""
    try:
        secret = secret_box(settings).open(tenant_id, kid, sealed)
    except ServiceError:
        return None
    return standard_webhooks.SECRET_PREFIX + "…" + secret[-HINT_CHARS:]
