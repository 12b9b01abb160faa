"""Operators: the people who run a tenant's Herald from the dashboard, and the rules of their
access (roles, passwords, sessions, login rate limits, emailed links). Pure: no I/O, no clock."""

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Role(StrEnum):
    """What an operator may do: a viewer reads, an editor also changes the tenant's
    configuration and sends, an owner also manages the team."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"

    def allows(self, needed: "Role") -> bool:
        """Whether this role may do what `needed` may (an owner may do everything)."""
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}


@dataclass(frozen=True)
class Operator:
    """A signed-in person, as every dashboard page receives them."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    name: str
    role: Role


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; this only bounds the work per attempt
MAX_NAME_LENGTH = 200


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None. Length is what matters (NIST SP 800-63B):
    no composition rules, which make passwords harder to remember, not to guess."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip():
        return "must not be only spaces"
    return None


def normalize_email(email: str) -> str:
    """Operators sign in by email; one address is one account per tenant whatever its case."""
    return email.strip().lower()


# Sessions: a session unused for SESSION_IDLE ends, and every session ends SESSION_LIFETIME
# after sign-in however busy. A session's last use is stamped at most once per TOUCH_INTERVAL.
SESSION_IDLE = timedelta(hours=8)
SESSION_LIFETIME = timedelta(days=7)
TOUCH_INTERVAL = timedelta(minutes=1)


# Login rate limits: failed sign-ins within the window, per email address (whether or not an
# account has it, so the limit tells nothing about which exist) and per client address.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


def retry_after(failures: list[datetime], limit: int, now: datetime) -> timedelta | None:
    """How long until another attempt may be made, when `failures` (within the window,
    oldest first) reach the limit; None when an attempt may be made now."""
    if len(failures) < limit:
        return None
    # The attempt is allowed again once enough of the failures have left the window.
    frees_at = failures[len(failures) - limit] + LOGIN_WINDOW
    return max(frees_at - now, timedelta(seconds=1))


# Emailed links: an invitation is valid for a week, a password reset for an hour; each once.
INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


def link_token(key: bytes, purpose: LinkPurpose, link_id: uuid.UUID, address: str) -> str:
    """The secret in an invitation or reset link. It is derived (HMAC-SHA256) from the link's
    row and the address the email goes to, never stored: the notification's context holds only
    the row's id, and the delivery adds the link when it sends to that address. So the link
    shows up nowhere in Herald's history, and a notification someone else makes with the same
    id, sent to another address, carries a link that does not work."""
    return _mac(key, f"operator-link:{purpose}", f"{link_id}:{normalize_email(address)}")


def token_digest(token: str) -> bytes:
    """What is stored of a token, to find its row: a SHA-256 digest (the token is random
    enough that a slow hash would add nothing)."""
    return hashlib.sha256(token.encode()).digest()


# Herald's own emails to operators: the event keys of their default templates.
INVITATION_EVENT = "herald.operator_invite"
PASSWORD_RESET_EVENT = "herald.password_reset"
LINK_PATHS = {
    INVITATION_EVENT: (LinkPurpose.INVITATION, "invitation_id", "invite_url", "/dashboard/invite/"),
    PASSWORD_RESET_EVENT: (
        LinkPurpose.PASSWORD_RESET,
        "reset_id",
        "reset_url",
        "/dashboard/reset/",
    ),
}


def operator_link(
    base_url: str, key: bytes, event_key: str, context: dict[str, object], address: str
) -> dict[str, str]:
    """The link an operator email carries, as context to add at send time ({} for any other
    email, or one without the id)."""
    if event_key not in LINK_PATHS:
        return {}
    purpose, id_field, url_field, path = LINK_PATHS[event_key]
    try:
        link_id = uuid.UUID(str(context.get(id_field)))
    except ValueError:
        return {}
    token = link_token(key, purpose, link_id, address)
    return {url_field: f"{base_url.rstrip('/')}{path}{token}"}


# The session cookie: a random token and its HMAC, so a cookie Herald did not issue is turned
# away before any lookup; the database keeps only the token's digest.


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"herald-{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_session(key: bytes, token: str) -> str:
    return f"{token}.{_mac(key, 'operator-session', token)}"


def session_token(key: bytes, cookie: str) -> str | None:
    """The token of a session cookie Herald signed; None for anything else."""
    token, _, signature = cookie.rpartition(".")
    if not token or not hmac.compare_digest(signature, _mac(key, "operator-session", token)):
        return None
    return token


def csrf_token(key: bytes, seed: str) -> str:
    """A form's CSRF token: bound to the browser's session (or, before sign-in, to a random
    value in a cookie of its own), so another site can neither read nor make one."""
    return _mac(key, "csrf", seed)
