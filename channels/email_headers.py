"""What every email says in its headers, decided once for every email provider."""

from dataclasses import dataclass

from channels.base import EmailMessage, PermanentSendError
from domain.email_headers import (
    name_and_address,
    needs_smtputf8,
    wire_address,
    without_bidi_controls,
)

# RFC 3834: a notification is sent by a machine, so auto-responders (out of office, vacation
# replies) should not answer it.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated"}


@dataclass(frozen=True)
class WireHeaders:
    sender_name: str
    sender: str  # ASCII
    to: str  # domain IDNA-encoded; a non-ASCII local part stays (then `smtputf8`)
    reply_to: str | None
    subject: str
    extra: dict[str, str]  # Auto-Submitted, then the message's own (List-Unsubscribe...)
    smtputf8: bool


def wire_headers(message: EmailMessage) -> WireHeaders:
    """Raises ValueError for an address that cannot be written (its domain does not
    IDNA-encode; a sender with a non-ASCII local part)."""
    name, address = name_and_address(message.sender)
    sender = wire_address(address)
    if needs_smtputf8(sender):
        raise ValueError(f"the sender {address!r} has a non-ASCII local part")
    return WireHeaders(
        sender_name=without_bidi_controls(name),
        sender=sender,
        to=wire_address(message.to),
        reply_to=wire_address(message.reply_to) if message.reply_to else None,
        subject=without_bidi_controls(message.subject),
        extra={**AUTOMATIC_HEADERS, **message.headers},
        smtputf8=needs_smtputf8(message.to),
    )


def ascii_wire_headers(message: EmailMessage, provider: str) -> WireHeaders:
    """wire_headers for a provider without SMTPUTF8 (SendGrid, SES), refusals as failures: an
    address that cannot be written, or a non-ASCII local part in To, the latter as the
    provider's fault (a failover provider may carry it)."""
    try:
        wire = wire_headers(message)
    except ValueError as exc:
        raise PermanentSendError(f"cannot write this email: {exc}") from exc
    if wire.smtputf8:
        raise PermanentSendError(
            f"{provider} cannot send to {message.to}: a non-ASCII local part needs SMTPUTF8",
            provider_fault=True,
        )
    return wire
