"""Email through Mailgun's HTTP API (POST /v3/<domain>/messages), with httpx.

Mailgun takes the message as form fields: the addresses, subject and bodies, `h:<Name>` for a
header of ours, and `v:<name>` for a variable it echoes in every webhook event about the
message (the delivery id, so events find their delivery: domain/provider_events.from_mailgun).
It answers {"id": "<message id>", "message": "Queued. Thank you."}.
"""

import email.utils

import httpx

from channels.base import EmailMessage, PermanentSendError, SendResult, TransientSendError
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.email_headers import wire_headers
from channels.http_status import error_for_code, json_object
from channels.mime import message_id_for
from domain.provider_events import DELIVERY_REFERENCE_ARG, bare_message_id

_ERRORS = {
    "400": ErrorKind.PERMANENT,  # the message or an address is invalid
    "401": ErrorKind.PROVIDER_REFUSED,  # the API key
    "403": ErrorKind.PROVIDER_REFUSED,
    "404": ErrorKind.PROVIDER_REFUSED,  # the sending domain is not one of the account's
    "413": ErrorKind.PERMANENT,  # too large
    "429": ErrorKind.TRANSIENT,
    "5xx": ErrorKind.TRANSIENT,
}


class MailgunEmailProvider:
    name = "mailgun"

    def __init__(self, api_key: str, domain: str, *, base_url: str, timeout: float = 10.0):
        self._url = f"{base_url.rstrip('/')}/v3/{domain}/messages"
        self._client = httpx.AsyncClient(auth=("api", api_key), timeout=timeout)

    async def send_email(self, message: EmailMessage) -> SendResult:
        try:
            response = await self._client.post(self._url, data=self._fields(message))
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"mailgun timed out: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise TransientSendError(f"mailgun unreachable: {exc!r}") from exc
        answer = json_object(response)
        if response.status_code != 200:
            raise error_for_code(
                self.name,
                _ERRORS,
                str(response.status_code),
                str(answer.get("message") or response.text[:500]),
                status=response.status_code,
                retry_after=response.headers.get("Retry-After"),
            )
        message_id = bare_message_id(answer.get("id"))
        return SendResult(self.name, message_id, {"status": 200, "message": answer.get("message")})

    def _fields(self, message: EmailMessage) -> dict[str, str]:
        try:
            wire = wire_headers(message)
        except ValueError as exc:
            raise PermanentSendError(f"cannot write this email: {exc}") from exc
        # Mailgun sends to internationalized addresses itself (SMTPUTF8), so `wire.smtputf8`
        # needs nothing here.
        fields = {
            "from": email.utils.formataddr((wire.sender_name, wire.sender)),
            "to": wire.to,
            "subject": wire.subject,
            "text": message.text,
        }
        if message.html:
            fields["html"] = message.html
        if wire.reply_to:
            fields["h:Reply-To"] = wire.reply_to
        for name, value in wire.extra.items():  # Auto-Submitted, List-Unsubscribe, ...
            fields[f"h:{name}"] = value
        if message.reference:
            # The delivery's own Message-ID, the same on every attempt (as over SMTP), and its
            # id as a variable Mailgun echoes in webhook events.
            domain = wire.sender.rpartition("@")[2]
            fields["h:Message-ID"] = message_id_for(message.reference, domain)
            fields[f"v:{DELIVERY_REFERENCE_ARG}"] = message.reference
        return fields

    async def close(self) -> None:
        await self._client.aclose()


def _build(config: ProviderConfig) -> MailgunEmailProvider:
    return MailgunEmailProvider(
        config["mailgun_api_key"],
        config["mailgun_domain"],
        base_url=config["mailgun_base_url"],
        timeout=config.timeout,
    )


DECLARATION = ProviderDeclaration(
    name="mailgun",
    channel="email",
    summary="Mailgun's HTTP API (messages endpoint); signed webhooks move statuses forward",
    build=_build,
    settings=(
        Setting("mailgun_api_key", secret=True),
        Setting("mailgun_domain"),
        Setting("mailgun_base_url"),
        Setting("mailgun_webhook_signing_key", secret=True, required=False),
    ),
    target="mailgun_base_url",
    errors=_ERRORS,
)
