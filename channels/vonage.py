"""SMS through Vonage's SMS API (POST /sms/json), with httpx: a second SMS provider, so SMS
failover can cross providers.

Vonage answers 200 even when it refuses a message: each part of the SMS has its own `status`
("0" taken, else an error code: channels/declaration's `errors` below says what each means).
The send sets `client-ref` to the delivery id and `callback` to Herald's receipt webhook, so
every part's delivery receipt finds its delivery (domain/provider_events.from_vonage).
"""

from typing import Any

import httpx

from channels.base import SendResult, SmsMessage, TransientSendError
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.http_status import error_for_code, json_object
from domain.templating.sms import sms_segments

RECEIPTS_PATH = "/v1/webhooks/vonage/status"
# Vonage's status codes (https://developer.vonage.com/en/api-errors/sms) and HTTP statuses.
_ERRORS = {
    "1": ErrorKind.TRANSIENT,  # Throttled: faster than the account's limit
    "2": ErrorKind.PERMANENT,  # Missing Parameters
    "3": ErrorKind.PERMANENT,  # Invalid Parameters (the number, the text)
    "4": ErrorKind.PROVIDER_REFUSED,  # Invalid Credentials
    "5": ErrorKind.TRANSIENT,  # Internal Error
    "6": ErrorKind.PERMANENT,  # Invalid Message (an unrecognized number prefix)
    "7": ErrorKind.PERMANENT,  # Number Barred: the recipient's number is blocked
    "8": ErrorKind.PROVIDER_REFUSED,  # Partner Account Barred (suspended)
    "9": ErrorKind.PROVIDER_REFUSED,  # Partner Quota Violation (no credit)
    "10": ErrorKind.TRANSIENT,  # Too Many Existing Binds: back off and retry
    "11": ErrorKind.PROVIDER_REFUSED,  # Account Not Enabled For HTTP
    "12": ErrorKind.PERMANENT,  # Message Too Long
    "14": ErrorKind.PROVIDER_REFUSED,  # Invalid Signature
    "15": ErrorKind.PROVIDER_REFUSED,  # Invalid Sender Address: VONAGE_FROM may not send here
    "22": ErrorKind.PERMANENT,  # Invalid Network Code
    "23": ErrorKind.PROVIDER_REFUSED,  # Invalid Callback URL (PUBLIC_BASE_URL)
    "29": ErrorKind.PROVIDER_REFUSED,  # Non-Whitelisted Destination (a trial account)
    "32": ErrorKind.PROVIDER_REFUSED,  # Signature And API Secret Disallowed
    "33": ErrorKind.PERMANENT,  # Number De-activated
    "429": ErrorKind.TRANSIENT,
    "5xx": ErrorKind.TRANSIENT,
}
# Flow control from a provider that is up: retried, but not counted as an outage.
_SLOW_DOWN = frozenset({"1", "10"})


class VonageSmsProvider:
    name = "vonage"

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        from_: str,
        *,
        base_url: str,
        callback: str | None = None,
        timeout: float = 10.0,
    ):
        self._url = f"{base_url.rstrip('/')}/sms/json"
        self._credentials = {"api_key": api_key, "api_secret": api_secret}
        self._from = from_.removeprefix("+")  # a number without its +, or an alphanumeric id
        self._callback = callback
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send_sms(self, message: SmsMessage) -> SendResult:
        try:
            response = await self._client.post(self._url, data=self._fields(message))
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"vonage timed out: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise TransientSendError(f"vonage unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise error_for_code(
                self.name,
                _ERRORS,
                str(response.status_code),
                response.text[:500],
                status=response.status_code,
                retry_after=response.headers.get("Retry-After"),
            )
        parts = _parts(response)
        taken = [p for p in parts if str(p.get("status")) == "0"]
        if not taken:  # parts sent are not unsent: a retry would send them twice
            refused = parts[0] if parts else {"status": "5", "error-text": "no messages in answer"}
            raise _refusal(self.name, refused)
        return SendResult(
            self.name,
            str(taken[0].get("message-id") or "") or None,
            {
                "status": 200,
                "parts": len(parts),
                **({"refused_parts": len(parts) - len(taken)} if len(taken) < len(parts) else {}),
            },
        )

    def _fields(self, message: SmsMessage) -> dict[str, str]:
        fields = {
            **self._credentials,
            "from": self._from,
            "to": message.to.removeprefix("+"),  # E.164 without its +
            "text": message.body,
        }
        if sms_segments(message.body).encoding != "GSM-7":
            fields["type"] = "unicode"  # else Vonage sends what GSM-7 cannot say as "?"
        if message.reference:
            fields["client-ref"] = message.reference
        if self._callback:
            fields["callback"] = self._callback
        return fields

    async def close(self) -> None:
        await self._client.aclose()


def _parts(response: httpx.Response) -> list[dict[str, Any]]:
    """The answer's entry for each part of the SMS."""
    messages = json_object(response).get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def _refusal(provider: str, part: dict[str, Any]) -> Exception:
    code = str(part.get("status"))
    err = error_for_code(provider, _ERRORS, code, str(part.get("error-text") or ""))
    if code in _SLOW_DOWN and isinstance(err, TransientSendError):
        err.provider_down = False
    return err


def _build(config: ProviderConfig) -> VonageSmsProvider:
    return VonageSmsProvider(
        config["vonage_api_key"],
        config["vonage_api_secret"],
        config["vonage_from"],
        base_url=config["vonage_base_url"],
        callback=f"{config.public_base_url.rstrip('/')}{RECEIPTS_PATH}",
        timeout=config.timeout,
    )


DECLARATION = ProviderDeclaration(
    name="vonage",
    channel="sms",
    summary="Vonage's SMS API; signed delivery receipts move statuses forward",
    build=_build,
    settings=(
        Setting("vonage_api_key"),
        Setting("vonage_api_secret", secret=True),
        Setting("vonage_from"),
        Setting("vonage_base_url"),
        Setting("vonage_signature_secret", secret=True, required=False),
    ),
    target="vonage_base_url",
    errors=_ERRORS,
)
