"""Header hygiene for email: what a subject, a display name and an address may look like.

- Bidirectional controls (every character with Unicode's Bidi_Control property: the
  embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069, and the marks U+200E,
  U+200F, U+061C) are removed from subjects and display names: an override makes
  "Invoice <U+202E>fdp.exe" read as "Invoice exe.pdf", and a display name can be made to look
  like another sender. The marks go too: they are invisible, and a subject or a name reads the
  same without them in every case but rare mixed-direction punctuation.
- An address goes on the wire with its domain IDNA-encoded (`ada@bücher.de` ->
  `ada@xn--bcher-kva.de`), readable by every server. A non-ASCII local part cannot be encoded:
  it needs a server that speaks SMTPUTF8 (RFC 6531).
- A tenant's own From address must be on a domain the operator allows (ALLOWED_FROM_DOMAINS):
  otherwise any tenant could send as anyone.
"""

import email.utils
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import idna
from email_validator import EmailNotValidError, validate_email

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_WITHOUT_BIDI = str.maketrans(dict.fromkeys(map(ord, BIDI_CONTROLS)))

MAX_ADDRESS_LENGTH = 254  # RFC 5321's 256-octet path, less its angle brackets
MAX_DISPLAY_NAME_LENGTH = 100


@dataclass(frozen=True)
class EmailIdentity:
    """A tenant's sender: each field None means Herald's default (EMAIL_FROM; no Reply-To)."""

    from_name: str | None = None
    from_address: str | None = None
    reply_to: str | None = None


def without_bidi_controls(text: str) -> str:
    return text.translate(_WITHOUT_BIDI)


def wire_address(address: str) -> str:
    """The address with its domain in ASCII (IDNA 2008, UTS #46 mapping); the local part as
    it is. Raises ValueError when the domain cannot be encoded."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{address!r} is not an address")
    return f"{local}@{ascii_domain(domain)}"


@lru_cache(maxsize=1024)
def name_and_address(value: str) -> tuple[str, str]:
    """email.utils.parseaddr, remembered: an email's From is one of a few (EMAIL_FROM, the
    tenants' own), and parsing it for every email (the email package's parser is pure Python)
    was a tenth of a broadcast's send CPU."""
    return email.utils.parseaddr(value)


@lru_cache(maxsize=4096)  # the idna package is pure Python: ~0.25 ms a domain, and they recur
def ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(f"the domain {domain!r} cannot be IDNA-encoded: {error}") from None


def needs_smtputf8(address: str) -> bool:
    """A non-ASCII local part has no ASCII form: only an SMTPUTF8 server can carry it."""
    return not address.rpartition("@")[0].isascii()


def address_problem(address: str) -> str | None:
    """Why `address` cannot be a sender or Reply-To address, or None.

    An RFC 5322 addr-spec in its common form (dot-atom local part; no quoted local parts, no
    domain literals), an ASCII local part (a UTF-8 one would need SMTPUTF8 on every send),
    a domain that IDNA-encodes and can receive mail from the internet (not `localhost` or
    another special-use name), at most 254 characters, and no control characters."""
    if len(address) > MAX_ADDRESS_LENGTH:
        return f"must be at most {MAX_ADDRESS_LENGTH} characters"
    if any(unicodedata.category(c) == "Cc" for c in address):
        return "must not contain control characters (line breaks, NUL)"
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        return f"is not a valid email address: {error}"
    return None


def display_name_problem(name: str) -> str | None:
    """Why `name` cannot be a From display name (after its bidi controls are removed), or None."""
    if not name.strip():
        return "must not be blank (null means Herald's default)"
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        return f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "must not contain control characters (line breaks, NUL)"
    return None


def allowed_from_domain(address: str, allowed_domains: Iterable[str]) -> bool:
    """Whether `address` is on one of the allowed domains (exactly: a subdomain must be listed
    itself), compared in ASCII and without case."""
    try:
        domain = ascii_domain(address.rpartition("@")[2]).lower()
        return domain in {ascii_domain(d).lower() for d in allowed_domains}
    except ValueError:
        return False


def identity_problem(
    identity: EmailIdentity, allowed_domains: Iterable[str]
) -> tuple[str, str] | None:
    """The first field of `identity` that cannot be used, and why; None when all can."""
    if identity.from_name is not None:
        problem = display_name_problem(without_bidi_controls(identity.from_name))
        if problem:
            return "from_name", problem
    addresses = {"from_address": identity.from_address, "reply_to": identity.reply_to}
    for field, address in addresses.items():
        problem = None if address is None else address_problem(address)
        if problem:
            return field, problem
    if identity.from_address is not None and not allowed_from_domain(
        identity.from_address, allowed_domains
    ):
        # The allowed domains are not listed: they may name other tenants' domains.
        return "from_address", "its domain is not one Herald may send from (ALLOWED_FROM_DOMAINS)"
    return None


def sender_for(identity: EmailIdentity, default_sender: str, allowed_domains: Iterable[str]) -> str:
    """`Name <address>` for an email's From: the tenant's name and address where it has set
    them, else the default's (EMAIL_FROM). A stored address whose domain is no longer allowed
    (ALLOWED_FROM_DOMAINS changed since) is not used."""
    default_name, default_address = name_and_address(default_sender)
    address = identity.from_address
    if address is None or not allowed_from_domain(address, allowed_domains):
        address = default_address
    name = without_bidi_controls(identity.from_name or default_name)
    # Quoted by hand, not with formataddr: that would RFC 2047-encode a non-ASCII name here,
    # and each provider writes the name in its own way (channels/email_headers.py).
    return f'"{email.utils.quote(name)}" <{address}>' if name else address
