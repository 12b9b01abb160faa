"""Email through SendGrid's v3 Mail Send API, with the official SDK.

SendGrid takes no SMTPUTF8 addresses: an address with a non-ASCII local part fails at once,
before any request, as a fault of this provider (a failover provider may carry it).

`send_email_batch` sends one content to many recipients in one request, one personalization
each (up to MAX_PERSONALIZATIONS): what differs between them (the unsubscribe link) is a
substitution or a header of their own. Each carries its delivery id as a custom arg, which
SendGrid echoes in every webhook event, so events are matched to the delivery as for a
single send; the batch's X-Message-Id is the same for all of them."""

import asyncio
import json
import urllib.error
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Email, Header, Mail, ReplyTo, To

from channels.base import EmailMessage, PermanentSendError, SendResult, TransientSendError
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.email_headers import ascii_wire_headers, wire_headers
from channels.http_status import error_for_status
from channels.mime import message_id_for
from domain.email_headers import needs_smtputf8, wire_address
from domain.provider_events import DELIVERY_REFERENCE_ARG

MAX_PERSONALIZATIONS = 1000  # SendGrid's limit for one request


@dataclass(frozen=True)
class Personalization:
    """One recipient of a batch: its address, its delivery (the Message-ID and the custom arg
    events echo), the values of the content's placeholders, and headers of its own."""

    to: str
    reference: str
    substitutions: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class SendGridEmailProvider:
    name = "sendgrid"

    def __init__(self, api_key: str, *, base_url: str, timeout: float = 10.0):
        self._client = SendGridAPIClient(api_key=api_key, host=base_url)
        self._client.client.timeout = timeout

    async def send_email(self, message: EmailMessage) -> SendResult:
        # The SDK is synchronous; a thread keeps the worker's event loop free.
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> SendResult:
        wire = ascii_wire_headers(message, "SendGrid")
        mail = Mail(
            from_email=Email(wire.sender, wire.sender_name or None),
            to_emails=To(wire.to),
            subject=wire.subject,
            plain_text_content=message.text,
            html_content=message.html,
        )
        if wire.reply_to:
            mail.reply_to = ReplyTo(wire.reply_to)
        for name, value in wire.extra.items():
            mail.header = Header(name, value)
        if message.reference:
            # The delivery's Message-ID, as over SMTP: the same on every attempt, so a message
            # sent twice after an unknown outcome can be deduplicated by its receivers.
            domain = wire.sender.rpartition("@")[2]
            mail.header = Header("Message-ID", message_id_for(message.reference, domain))
            # Echoed back in event webhooks, so events can be matched to the delivery.
            mail.custom_arg = CustomArg(DELIVERY_REFERENCE_ARG, message.reference)
        return self._post(mail.get())

    async def send_email_batch(
        self, message: EmailMessage, recipients: Sequence[Personalization]
    ) -> SendResult:
        """`message` (its `to` and `reference` unused) to every recipient, in one request."""
        return await asyncio.to_thread(self._send_batch, message, recipients)

    def _send_batch(
        self, message: EmailMessage, recipients: Sequence[Personalization]
    ) -> SendResult:
        if not 0 < len(recipients) <= MAX_PERSONALIZATIONS:
            raise ValueError(f"a batch has 1 to {MAX_PERSONALIZATIONS} recipients")
        try:
            wire = wire_headers(message)
            addresses = [wire_address(r.to) for r in recipients]
        except ValueError as exc:
            raise PermanentSendError(f"cannot write this email: {exc}") from exc
        if any(needs_smtputf8(address) for address in addresses):
            raise PermanentSendError(
                "SendGrid cannot send to an address with a non-ASCII local part",
                provider_fault=True,
            )
        domain = wire.sender.rpartition("@")[2]
        own = {name.lower() for r in recipients for name in r.headers}
        body: dict[str, Any] = {
            "from": {
                "email": wire.sender,
                **({"name": wire.sender_name} if wire.sender_name else {}),
            },
            "subject": wire.subject,
            "content": [{"type": "text/plain", "value": message.text}]
            + ([{"type": "text/html", "value": message.html}] if message.html else []),
            "headers": {k: v for k, v in wire.extra.items() if k.lower() not in own},
            "personalizations": [
                {
                    "to": [{"email": address}],
                    "headers": {
                        **r.headers,
                        "Message-ID": message_id_for(r.reference, domain),
                    },
                    "custom_args": {DELIVERY_REFERENCE_ARG: r.reference},
                    **({"substitutions": r.substitutions} if r.substitutions else {}),
                }
                for address, r in zip(addresses, recipients, strict=True)
            ],
        }
        if wire.reply_to:
            body["reply_to"] = {"email": wire.reply_to}
        result = self._post(body)
        return SendResult(
            result.provider, result.message_id, {**result.response, "batch": len(recipients)}
        )

    def _post(self, body: dict[str, Any]) -> SendResult:
        try:
            response = self._client.send(body)
        except HTTPError as exc:
            raise error_for_status(
                self.name,
                exc.status_code,
                _error_detail(exc.body),
                retry_after=(exc.headers or {}).get("Retry-After"),
            ) from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise TransientSendError(f"sendgrid unreachable: {exc}") from exc
        message_id = response.headers.get("X-Message-Id")
        return SendResult(self.name, message_id, {"status": response.status_code})


def _error_detail(body: bytes | str | None) -> str:
    """SendGrid explains a rejection as {"errors": [{"message", "field"}]}."""
    if not body:
        return ""
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    try:
        errors = json.loads(text).get("errors", [])
        return (
            "; ".join(
                f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
                for e in errors
            )
            or text[:500]
        )
    except (ValueError, AttributeError):
        return text[:500]


def _build(config: ProviderConfig) -> SendGridEmailProvider:
    return SendGridEmailProvider(
        config["sendgrid_api_key"], base_url=config["sendgrid_base_url"], timeout=config.timeout
    )


DECLARATION = ProviderDeclaration(
    name="sendgrid",
    channel="email",
    summary="SendGrid's v3 Mail Send API (official SDK); broadcasts batch personalizations",
    build=_build,
    settings=(
        Setting("sendgrid_api_key", secret=True),
        Setting("sendgrid_base_url"),
        Setting("sendgrid_webhook_public_key", required=False),
    ),
    target="sendgrid_base_url",
    batching=True,
    errors={
        "400": ErrorKind.PERMANENT,
        "401": ErrorKind.PROVIDER_REFUSED,
        "403": ErrorKind.PROVIDER_REFUSED,
        "413": ErrorKind.PERMANENT,
        "429": ErrorKind.TRANSIENT,
        "5xx": ErrorKind.TRANSIENT,
    },
)
