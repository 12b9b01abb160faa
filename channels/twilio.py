"""SMS through Twilio's Messages API, with the official SDK."""

import asyncio
import threading

from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from channels.base import SendResult, SmsMessage, TransientSendError
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.http_status import error_for_status

TWILIO_API = "https://api.twilio.com"


class _RebasedHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to another base URL (a regional edge, or a local test server)."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__(timeout=timeout)
        self._base_url = base_url.rstrip("/")
        # Sends run in worker threads; each remembers its own last answer (for Retry-After).
        self._local = threading.local()

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API) and self._base_url != TWILIO_API:
            url = self._base_url + url[len(TWILIO_API) :]
        response = super().request(method, url, *args, **kwargs)
        self._local.headers = response.headers
        return response

    def last_header(self, name: str) -> str | None:
        headers = getattr(self._local, "headers", None)
        return headers.get(name) if headers is not None else None


class TwilioSmsProvider:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        base_url: str = TWILIO_API,
        status_callback: str | None = None,
        timeout: float = 10.0,
    ):
        self._http = _RebasedHttpClient(base_url, timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._from = from_number
        self._status_callback = status_callback

    async def send_sms(self, message: SmsMessage) -> SendResult:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: SmsMessage) -> SendResult:
        options = {"status_callback": self._status_callback} if self._status_callback else {}
        try:
            sent = self._client.messages.create(
                to=message.to, from_=self._from, body=message.body, **options
            )
        except TwilioRestException as exc:
            raise error_for_status(
                self.name,
                exc.status,
                exc.msg,
                retry_after=self._http.last_header("Retry-After"),
                code=str(exc.code) if exc.code else None,
                response={"code": exc.code, "more_info": exc.uri},
            ) from exc
        except RequestException as exc:
            raise TransientSendError(f"twilio unreachable: {exc}") from exc
        return SendResult(
            self.name, sent.sid, {"status": sent.status, "segments": sent.num_segments}
        )


def _builder(sender_setting: str, name: str):
    def build(config: ProviderConfig) -> TwilioSmsProvider:
        provider = TwilioSmsProvider(
            config["twilio_account_sid"],
            config["twilio_auth_token"],
            config[sender_setting],
            base_url=config["twilio_base_url"],
            status_callback=f"{config.public_base_url}/v1/webhooks/twilio/status",
            timeout=config.timeout,
        )
        provider.name = name
        return provider

    return build


_ERRORS = {
    "21211": ErrorKind.PERMANENT,  # invalid 'To' number
    "21610": ErrorKind.PERMANENT,  # the recipient replied STOP
    "21614": ErrorKind.PERMANENT,  # not a mobile number
    "20003": ErrorKind.PROVIDER_REFUSED,  # authentication
    "21606": ErrorKind.PROVIDER_REFUSED,  # the From number cannot send
    "429": ErrorKind.TRANSIENT,
    "5xx": ErrorKind.TRANSIENT,
}
# A second sender number is a provider of its own, so SMS failover can move to it.
DECLARATIONS = tuple(
    ProviderDeclaration(
        name=name,
        channel="sms",
        summary=f"Twilio's Messages API (official SDK), from {sender.upper()}",
        build=_builder(sender, name),
        settings=(
            Setting("twilio_account_sid"),
            Setting("twilio_auth_token", secret=True),
            Setting(sender),
            Setting("twilio_base_url"),
        ),
        target="twilio_base_url",
        errors=_ERRORS,
    )
    for name, sender in (
        ("twilio", "twilio_from_number"),
        ("twilio_secondary", "twilio_secondary_from_number"),
    )
)
