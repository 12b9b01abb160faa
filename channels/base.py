"""The ports every channel provider implements, and the two ways a send can fail."""

from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.devices import PushDevice


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
class PushMessage:
    """A push notification to one device (channels/push.py sends one to each device)."""

    device: PushDevice
    body: str
    title: str | None = None
    icon: str | None = None
    action_url: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    reference: str = ""  # Herald's delivery id


@dataclass(frozen=True)
class ChatMessage:
    """A chat message: `to` is the platform's address without its prefix (a Slack user or
    channel id, or a webhook URL); `text` uses the platform's markdown; `blocks` are Slack
    blocks or a Teams Adaptive Card's body, where the platform has them."""

    to: str
    text: str
    title: str | None = None
    action_url: str | None = None
    blocks: list[dict[str, Any]] | None = None
    reference: str = ""


@dataclass(frozen=True)
class WebhookMessage:
    """The webhook channel: `payload` POSTed as JSON to `url`, signed with `secret` (and
    `previous_secret`) per the Standard Webhooks specification; `reference` is the webhook-id
    (the same on a retry)."""

    url: str
    payload: dict[str, Any]
    secret: str
    reference: str
    previous_secret: str | None = None  # also signs, for a day after a rotation


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


class DeviceGoneError(PermanentSendError):
    """Push: the device is no longer registered (web push 404/410, FCM UNREGISTERED, APNs
    Unregistered/BadDeviceToken). It is deactivated at once and never tried again."""


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


class PushProvider(Protocol):
    """Sends to devices of its kinds (`kinds`, domain.devices.DeviceKind values)."""

    name: str
    kinds: tuple[str, ...]

    async def send_push(self, message: PushMessage) -> SendResult: ...


class ChatProvider(Protocol):
    """Sends to addresses with its prefix (`slack:...`): `name` is the prefix."""

    name: str

    async def send_chat(self, message: ChatMessage) -> SendResult: ...


class WebhookProvider(Protocol):
    name: str

    async def send_webhook(self, message: WebhookMessage) -> SendResult: ...
