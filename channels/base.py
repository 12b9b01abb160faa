"""The ports every channel provider implements, and the two ways a send can fail."""

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    sender: str = ""  # "Name <address>"
    reply_to: str = ""  # an address, or none
    headers: dict[str, str] = field(default_factory=dict)
    reference: str = ""  # Herald's delivery id, passed to providers that can echo it back


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    reference: str = ""


@dataclass(frozen=True)
class SendResult:
    provider: str
    message_id: str | None
    response: dict[str, Any] = field(default_factory=dict)


class SendError(Exception):
    def __init__(self, message: str, *, code: str | None = None, response: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.response = response or {}


class PermanentSendError(SendError):
    """Retrying cannot help: invalid address, rejected credentials, a 4xx other than 429.

    `provider_fault` marks refusals of Herald itself (credentials, account) rather than of
    the recipient: another provider may well succeed."""

    def __init__(self, message: str, *, provider_fault: bool = False, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.provider_fault = provider_fault


class TransientSendError(SendError):
    """May succeed later: timeouts, 5xx, 429. `retry_after` is the provider's hint in seconds.

    `provider_down`: the provider itself is failing (unreachable, timing out, 5xx, SMTP 421),
    which its circuit breaker counts. Not so for an answer about this one message (429: slow
    down; SMTP 450/451/452: greylisting, a busy mailbox): the provider is up, and counting those
    as an outage opened the circuit on healthy providers."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        provider_down: bool = True,
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.provider_down = provider_down


class EmailProvider(Protocol):
    name: str

    async def send_email(self, message: EmailMessage) -> SendResult: ...


class SmsProvider(Protocol):
    name: str

    async def send_sms(self, message: SmsMessage) -> SendResult: ...
