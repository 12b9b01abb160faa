"""Email through SendGrid's v3 Mail Send API, with the official SDK."""

import asyncio
import json
import urllib.error

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Header, Mail

from channels.base import EmailMessage, SendResult, TransientSendError
from channels.http_status import error_for_status


class SendGridEmailProvider:
    name = "sendgrid"

    def __init__(self, api_key: str, *, base_url: str, timeout: float = 10.0):
        self._client = SendGridAPIClient(api_key=api_key, host=base_url)
        self._client.client.timeout = timeout

    async def send_email(self, message: EmailMessage) -> SendResult:
        # The SDK is synchronous; a thread keeps the worker's event loop free.
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> SendResult:
        mail = Mail(
            from_email=message.sender,
            to_emails=message.to,
            subject=message.subject,
            plain_text_content=message.text,
            html_content=message.html,
        )
        for name, value in message.headers.items():
            mail.header = Header(name, value)
        if message.reference:
            # Echoed back in event webhooks, so events can be matched to the delivery.
            mail.custom_arg = CustomArg("herald_delivery_id", message.reference)
        try:
            response = self._client.send(mail)
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
