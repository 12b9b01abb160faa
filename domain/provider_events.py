"""What a provider's status webhook says, in Herald's terms (pure: no I/O, no clock).

Twilio posts one form per status change of an SMS; SendGrid posts JSON batches of email
events; the in-app inbox reports a message read or its link followed. All become
`ProviderEvent`s: which message, which status it reports (if any), and
the effects beyond the delivery (the recipient opting out, an address that will never work).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.types import DeliveryStatus

TWILIO_STATUSES = {
    # Herald's `sent` means "the provider has it": queued at Twilio is sent from our side.
    "queued": DeliveryStatus.SENT,
    "accepted": DeliveryStatus.SENT,
    "scheduled": DeliveryStatus.SENT,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.OPENED,  # read receipts (WhatsApp, RCS)
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
# Twilio error codes meaning the number itself cannot receive SMS: never try it again.
# (30003 "unreachable handset" is left out: a phone that is off comes back.)
TWILIO_DEAD_NUMBER_CODES = {
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "21614": "not a mobile number",
}
TWILIO_ERROR_NAMES = {
    **TWILIO_DEAD_NUMBER_CODES,
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30007": "filtered by the carrier",
    "30008": "unknown error",
    "21610": "the recipient replied STOP",
}

SENDGRID_STATUSES = {
    "processed": DeliveryStatus.SENT,
    # SendGrid is retrying the recipient's server: the message is still in flight (sent).
    "deferred": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "open": DeliveryStatus.OPENED,
    "click": DeliveryStatus.CLICKED,
    "bounce": DeliveryStatus.BOUNCED,
    "dropped": DeliveryStatus.FAILED,
}
SENDGRID_OPT_OUTS = frozenset({"spamreport", "unsubscribe"})
DELIVERY_REFERENCE_ARG = "herald_delivery_id"  # the custom arg channels/sendgrid.py sets


INBOX = "inbox"  # the in-app inbox, as a provider reporting on in-app deliveries
INBOX_STATUSES = {"read": DeliveryStatus.OPENED, "clicked": DeliveryStatus.CLICKED}


@dataclass(frozen=True)
class ProviderEvent:
    provider: str  # "twilio", "sendgrid" or INBOX
    kind: str  # the provider's own name for what happened
    message_id: str | None  # the id the send stored as provider_message_id
    delivery_id: str | None = None  # Herald's delivery id, when the provider echoes it
    event_id: str | None = None  # the provider's id of this event, for idempotency
    status: DeliveryStatus | None = None  # None: not a status report (spam report, unsubscribe)
    occurred_at: datetime | None = None
    error: str | None = None
    opt_out: bool = False  # the recipient asked for no more of this category on this channel
    invalid_address: str | None = None  # why the address can never be delivered to
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """It says something Herald acts on (else it is acknowledged and dropped)."""
        return self.status is not None or self.opt_out or self.invalid_address is not None


class MalformedEvent(ValueError):
    """The payload lacks what every event of its provider carries."""


def from_twilio(form: dict[str, str]) -> ProviderEvent:
    """One Twilio status callback (form fields as posted)."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    kind = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not kind:
        raise MalformedEvent("MessageSid and MessageStatus are required")
    status = TWILIO_STATUSES.get(kind)
    code = form.get("ErrorCode") or None
    error = None
    if status == DeliveryStatus.FAILED:
        name = form.get("ErrorMessage") or TWILIO_ERROR_NAMES.get(code or "", "")
        error = (
            f"twilio {kind}" + (f": error {code}" if code else "") + (f" ({name})" if name else "")
        )
    dead = TWILIO_DEAD_NUMBER_CODES.get(code or "") if status == DeliveryStatus.FAILED else None
    return ProviderEvent(
        provider="twilio",
        kind=kind,
        message_id=sid,
        status=status,
        error=error,
        invalid_address=f"twilio error {code}: {dead}" if dead else None,
        payload=dict(form),
    )


def from_sendgrid(event: dict[str, Any]) -> ProviderEvent:
    """One event of a SendGrid Event Webhook batch."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        raise MalformedEvent("every event must be an object with an 'event' name")
    kind = event["event"]
    status = SENDGRID_STATUSES.get(kind)
    return ProviderEvent(
        provider="sendgrid",
        kind=kind,
        # sg_message_id is the X-Message-Id the send got back, followed by ".<filter info>".
        message_id=str(event.get("sg_message_id") or "").split(".", 1)[0] or None,
        delivery_id=_text(event.get(DELIVERY_REFERENCE_ARG)),
        event_id=_text(event.get("sg_event_id")),
        status=status,
        occurred_at=_unix_time(event.get("timestamp")),
        error=_sendgrid_error(kind, event)
        if status in (DeliveryStatus.BOUNCED, DeliveryStatus.FAILED)
        else None,
        opt_out=kind in SENDGRID_OPT_OUTS,
        invalid_address=_hard_bounce(kind, event),
        payload=event,
    )


def inbox_report(kind: str, occurred_at: datetime) -> ProviderEvent:
    """The recipient read in-app messages (`read`: opened) or followed one's action link
    (`clicked`): one report for the deliveries of those messages (an in-app message's id is its
    delivery's id), applied to them all at once (services.tracking.apply_report_to_many)."""
    return ProviderEvent(
        provider=INBOX,
        kind=kind,
        message_id=None,
        status=INBOX_STATUSES[kind],
        occurred_at=occurred_at,
        payload={"inbox": kind},
    )


def _sendgrid_error(kind: str, event: dict[str, Any]) -> str:
    detail = "; ".join(str(event[k]) for k in ("type", "status", "reason") if event.get(k))
    return f"sendgrid {kind}" + (f": {detail}" if detail else "")


def _hard_bounce(kind: str, event: dict[str, Any]) -> str | None:
    """A `bounce` of type 'bounce' (a `blocked` one is the receiving server refusing this
    message, not the address), or a drop because SendGrid already knows the address bounces."""
    reason = str(event.get("reason") or "")
    if kind == "bounce" and event.get("type") == "bounce":
        return f"hard bounce: {reason}" if reason else "hard bounce"
    if kind == "dropped" and reason == "Bounced Address":
        return "dropped by sendgrid: Bounced Address"
    return None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _unix_time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
