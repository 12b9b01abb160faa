"""What a provider's status webhook says, in Herald's terms (pure: no I/O, no clock).

Twilio posts one form per status change of an SMS, Vonage one delivery receipt; SendGrid
posts JSON batches of email events, Mailgun one event per call, SES one per SNS notification;
the in-app inbox reports a message read or its link followed. All become `ProviderEvent`s:
which message, which status it reports (if any), and the effects beyond the delivery (the
recipient opting out, an address that will never work).
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
# The custom arg (SendGrid), variable (Mailgun) a send sets to its delivery id, echoed in events.
DELIVERY_REFERENCE_ARG = "herald_delivery_id"

MAILGUN_STATUSES = {
    "accepted": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "opened": DeliveryStatus.OPENED,
    "clicked": DeliveryStatus.CLICKED,
    "rejected": DeliveryStatus.FAILED,  # Mailgun refused to send it at all
    # "failed": bounced when its severity is permanent; a temporary one Mailgun retries itself
}
MAILGUN_OPT_OUTS = frozenset({"complained", "unsubscribed"})
# Permanent failures that are the address's (SendGrid's hard bounce): the receiving server
# refused the mailbox, or Mailgun dropped the message as the address bounced before.
MAILGUN_DEAD_ADDRESS_REASONS = frozenset({"bounce", "suppress-bounce"})

VONAGE_STATUSES = {
    "accepted": DeliveryStatus.SENT,  # the carrier has it
    "buffered": DeliveryStatus.SENT,  # the carrier is still trying
    "delivered": DeliveryStatus.DELIVERED,
    "expired": DeliveryStatus.FAILED,  # the carrier gave up
    "failed": DeliveryStatus.FAILED,
    "rejected": DeliveryStatus.FAILED,
}
# Vonage's delivery receipt error codes meaning the number is gone for good ("should be removed
# from your database"). 2 (absent subscriber, temporary) and 7 (handset busy) come back.
VONAGE_DEAD_NUMBER_CODES = {
    "3": "absent subscriber - permanent",
    "4": "call barred by user",
}
VONAGE_ERROR_NAMES = {
    **VONAGE_DEAD_NUMBER_CODES,
    "1": "unknown",
    "2": "absent subscriber - temporary",
    "5": "portability error",
    "6": "anti-spam rejection",
    "7": "handset busy",
    "8": "network error",
    "9": "illegal number",
    "10": "illegal message",
    "11": "unroutable",
    "12": "destination unreachable",
    "13": "subscriber age restriction",
    "14": "number blocked by carrier",
    "15": "prepaid insufficient funds",
    "99": "general error",
}


# SES's event types (a configuration set's event publishing; an identity's feedback
# notifications name theirs `notificationType`), and the object that details each.
SES_STATUSES = {
    "Send": DeliveryStatus.SENT,
    "DeliveryDelay": DeliveryStatus.SENT,  # SES is retrying the recipient's server: in flight
    "Delivery": DeliveryStatus.DELIVERED,
    "Open": DeliveryStatus.OPENED,
    "Click": DeliveryStatus.CLICKED,
    "Bounce": DeliveryStatus.BOUNCED,  # a Permanent one only: a Transient one is ignored
    "Reject": DeliveryStatus.FAILED,  # SES refused to send it (a virus in it)
    "Rendering Failure": DeliveryStatus.FAILED,
}
SES_DETAILS = {
    "Send": "send",
    "DeliveryDelay": "deliveryDelay",
    "Delivery": "delivery",
    "Open": "open",
    "Click": "click",
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Reject": "reject",
    "Rendering Failure": "failure",
}


INBOX = "inbox"  # the in-app inbox, as a provider reporting on in-app deliveries
INBOX_STATUSES = {"read": DeliveryStatus.OPENED, "clicked": DeliveryStatus.CLICKED}


@dataclass(frozen=True)
class ProviderEvent:
    provider: str  # "twilio", "vonage", "sendgrid", "mailgun", "ses" or INBOX
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


def from_mailgun(body: dict[str, Any]) -> ProviderEvent:
    """One Mailgun webhook: {"signature": {timestamp, token, signature}, "event-data": {...}}.

    Its event id is the signature's token, random per call: a replayed call is a duplicate,
    applied once."""
    data = body.get("event-data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise MalformedEvent("event-data must be an object with an 'event' name")
    kind = data["event"]
    status = MAILGUN_STATUSES.get(kind)
    if kind == "failed" and data.get("severity") == "permanent":
        status = DeliveryStatus.BOUNCED
    headers = _object(_object(data.get("message")).get("headers"))
    return ProviderEvent(
        provider="mailgun",
        kind=kind,
        message_id=bare_message_id(headers.get("message-id")),
        delivery_id=_text(_object(data.get("user-variables")).get(DELIVERY_REFERENCE_ARG)),
        event_id=_text(_object(body.get("signature")).get("token")),
        status=status,
        occurred_at=_unix_time(data.get("timestamp")),
        error=_mailgun_error(kind, data)
        if status in (DeliveryStatus.BOUNCED, DeliveryStatus.FAILED)
        else None,
        opt_out=kind in MAILGUN_OPT_OUTS,
        invalid_address=_mailgun_dead_address(status, data),
        payload=data,
    )


def from_vonage(params: dict[str, str]) -> ProviderEvent:
    """One Vonage delivery receipt (its parameters, from the query string, form or JSON).

    Its event id is the nonce of a signed receipt: a replayed receipt is a duplicate."""
    message_id = params.get("messageId")
    kind = (params.get("status") or "").lower()
    if not message_id or not kind:
        raise MalformedEvent("messageId and status are required")
    status = VONAGE_STATUSES.get(kind)
    code = params.get("err-code") or ""
    failed = status == DeliveryStatus.FAILED
    dead = VONAGE_DEAD_NUMBER_CODES.get(code) if failed else None
    return ProviderEvent(
        provider="vonage",
        kind=kind,
        message_id=message_id,
        # client-ref: the delivery id the send set; every part of a long SMS carries it.
        delivery_id=params.get("client-ref") or None,
        event_id=params.get("nonce") or None,
        status=status,
        error=_vonage_error(kind, code) if failed else None,
        invalid_address=f"vonage error {code}: {dead}" if dead else None,
        payload=dict(params),
    )


def bare_message_id(value: Any) -> str | None:
    """A Message-ID without its angle brackets: Mailgun's send answers "<id>", its events
    "id"."""
    text = str(value or "").strip().removeprefix("<").removesuffix(">")
    return text or None


def from_ses(event: dict[str, Any], event_id: str | None = None) -> ProviderEvent:
    """One SES event, as an SNS notification carries it (its Message, parsed). `event_id` is
    the notification's MessageId, the same when SNS delivers it again."""
    if not isinstance(event, dict):
        raise MalformedEvent("an SES event is a JSON object")
    kind = event.get("eventType") or event.get("notificationType")
    mail = event.get("mail")
    if not isinstance(kind, str) or not isinstance(mail, dict):
        raise MalformedEvent("an SES event has an eventType and a mail object")
    detail = _object(event.get(SES_DETAILS.get(kind, "")))
    status = SES_STATUSES.get(kind)
    if kind == "Bounce" and detail.get("bounceType") != "Permanent":
        status = None  # Transient (a full mailbox) or Undetermined: the address may work later
    tagged = _object(mail.get("tags")).get(DELIVERY_REFERENCE_ARG)  # each tag: a list of values
    return ProviderEvent(
        provider="ses",
        kind=kind,
        message_id=_text(mail.get("messageId")),
        delivery_id=_text(tagged[0]) if isinstance(tagged, list) and tagged else None,
        event_id=event_id,
        status=status,
        occurred_at=_iso_time(detail.get("timestamp") or mail.get("timestamp")),
        error=_ses_error(kind, detail)
        if status in (DeliveryStatus.BOUNCED, DeliveryStatus.FAILED)
        else None,
        opt_out=kind == "Complaint" and detail.get("complaintFeedbackType") != "not-spam",
        invalid_address=_ses_hard_bounce(detail) if status == DeliveryStatus.BOUNCED else None,
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


def _mailgun_error(kind: str, data: dict[str, Any]) -> str:
    status = _object(data.get("delivery-status"))
    said = status.get("description") or status.get("message")
    detail = "; ".join(str(x) for x in (data.get("reason"), status.get("code"), said) if x)
    return f"mailgun {kind}" + (f": {detail}" if detail else "")


def _vonage_error(kind: str, code: str) -> str:
    name = VONAGE_ERROR_NAMES.get(code, "")
    return f"vonage {kind}" + (f": error {code}" if code else "") + (f" ({name})" if name else "")


def _mailgun_dead_address(status: DeliveryStatus | None, data: dict[str, Any]) -> str | None:
    reason = str(data.get("reason") or "")
    if status != DeliveryStatus.BOUNCED or reason not in MAILGUN_DEAD_ADDRESS_REASONS:
        return None
    if reason == "suppress-bounce":
        return "dropped by mailgun: the address bounced before"
    delivery = _object(data.get("delivery-status"))
    said = delivery.get("message") or delivery.get("description")
    detail = " ".join(str(x) for x in (delivery.get("code"), said) if x)
    return f"hard bounce: {detail}" if detail else "hard bounce"


def _ses_error(kind: str, detail: dict[str, Any]) -> str:
    if kind == "Bounce":
        bounced = _first_bounced(detail)
        said = [
            f"{detail.get('bounceType')}/{detail.get('bounceSubType')}",
            bounced.get("status"),
            bounced.get("diagnosticCode"),
        ]
    else:
        said = [detail.get("reason") or detail.get("errorMessage")]
    text = "; ".join(str(x) for x in said if x)
    return f"ses {kind.lower()}" + (f": {text}" if text else "")


def _ses_hard_bounce(detail: dict[str, Any]) -> str:
    said = _first_bounced(detail).get("diagnosticCode") or detail.get("bounceSubType")
    return f"hard bounce: {said}" if said else "hard bounce"


def _first_bounced(detail: dict[str, Any]) -> dict[str, Any]:
    """The bounced recipient (Herald sends each email to one)."""
    recipients = detail.get("bouncedRecipients")
    return _object(recipients[0]) if isinstance(recipients, list) and recipients else {}


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of a payload, or {} when it is missing or not an object."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _unix_time(value: Any) -> datetime | None:
    """Seconds since the epoch (SendGrid's whole ones, Mailgun's with a fraction)."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time, as SES writes them (2026-01-01T10:00:00.123Z)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
