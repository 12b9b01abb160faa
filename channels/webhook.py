"""The webhook channel: a rendered notification POSTed as JSON to the tenant's URL, signed per
the Standard Webhooks specification (domain/standard_webhooks.py).

- `webhook-id` is the delivery's id, the same on every retry, so a receiver that got a message
  whose answer was lost can tell the retry is the same message; `webhook-timestamp` is the
  attempt's time, which the signature covers (receivers refuse stale ones).
- The URL is the tenant's, so every call goes through channels/safe_http.guarded_post: an
  address inside Herald's network is refused at send time too (a name's DNS answer can change
  after the URL was checked), never retried; redirects are not followed.
- 2xx: sent. 408, 429, 5xx, a timeout or no connection: retried (Retry-After honoured). Any
  other answer (4xx, 3xx): failed at once, never retried.
- The receiver is the tenant's own, not a provider of Herald's: its outages and refusals are
  about that tenant's channel, so none counts against the webhook channel's circuit (which
  would show the channel down in health for every tenant) and none is a "provider refused".
"""

import json
import time
from collections.abc import Callable

import httpx

from channels.base import (
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
    WebhookMessage,
)
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.http_status import error_for_status
from channels.safe_http import guarded_post
from domain import standard_webhooks

NAME = "webhook"
USER_AGENT = "Herald"
DETAIL_CHARS = 200  # of a refusal's body, kept in the delivery's error


class WebhookSender:
    name = NAME

    def __init__(
        self, *, timeout: float, allow_private: bool, clock: Callable[[], float] = time.time
    ):
        self._allow_private = allow_private
        self._clock = clock
        # No proxy from the environment: the address checked is the address called.
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def send_webhook(self, message: WebhookMessage) -> SendResult:
        try:
            body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False).encode()
            also = (message.previous_secret,) if message.previous_secret else ()
            signed = standard_webhooks.headers(
                message.secret, message.reference, int(self._clock()), body, *also
            )
        except (TypeError, ValueError) as exc:  # not JSON, or a secret that is not whsec_
            raise PermanentSendError(f"cannot sign this webhook: {exc}") from exc
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **signed}
        try:
            response = await guarded_post(
                self._client,
                message.url,
                allow_private=self._allow_private,
                headers=headers,
                content=body,
            )
        except httpx.TimeoutException as exc:
            raise _receivers(TransientSendError(f"webhook timed out: {_described(exc)}")) from exc
        except httpx.TransportError as exc:  # refused, reset, TLS, protocol
            raise _receivers(TransientSendError(f"webhook unreachable: {_described(exc)}")) from exc
        except (httpx.InvalidURL, ValueError) as exc:  # a URL that cannot be called at all
            raise PermanentSendError(f"webhook URL cannot be called: {exc}") from exc
        except TransientSendError as exc:  # the name does not resolve now
            raise _receivers(exc) from exc
        if response.is_success:
            return SendResult(NAME, message.reference, {"status": response.status_code})
        raise _receivers(
            error_for_status(
                NAME,
                response.status_code,
                response.text[:DETAIL_CHARS],
                retry_after=response.headers.get("Retry-After"),
            )
        )

    async def close(self) -> None:
        await self._client.aclose()


def _receivers(error: SendError) -> SendError:
    """The failure as the tenant's receiver's, not Herald's provider's (see the module's doc)."""
    if isinstance(error, TransientSendError):
        error.provider_down = False
    if isinstance(error, PermanentSendError):
        error.provider_fault = False
    return error


def _described(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _build(config: ProviderConfig) -> WebhookSender:
    return WebhookSender(timeout=config.timeout, allow_private=config.allow_private_addresses)


DECLARATION = ProviderDeclaration(
    name=NAME,
    channel="webhook",
    summary="POSTs the notification as JSON to the tenant's URL, signed per Standard Webhooks",
    build=_build,
    settings=(Setting("webhook_allow_private_addresses", required=False),),
    errors={
        "408": ErrorKind.TRANSIENT,
        "429": ErrorKind.TRANSIENT,
        "5xx": ErrorKind.TRANSIENT,
        "timeout": ErrorKind.TRANSIENT,
        "4xx": ErrorKind.PERMANENT,  # 401 and 403 too: the tenant's receiver refused it
        "private_address": ErrorKind.PERMANENT,
    },
)
