"""SMS through Twilio's Messages API, with the official SDK."""

import asyncio
import threading

from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from channels.base import SendResult, SmsMessage, TransientSendError
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
