"""What the chat providers (Slack, Microsoft Teams, Discord) share: one HTTP client each, the
POST of a message to a webhook URL a recipient gave (through the SSRF guard), and the failure
an answer means by the provider's declared errors (channels/http_status.py).

A webhook URL carries its secret in its path: messages here name its host only.

A webhook URL is the recipient's, not the platform's account: its 5xx and timeouts are retried
like any transient failure but do not count as the provider being down, so that one dead or
slow URL cannot open the chat channel's circuit for every other recipient.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from channels.base import SendError, TransientSendError
from channels.declaration import ErrorKind
from channels.http_status import error_for_code
from channels.safe_http import guarded_post

MAX_DETAIL_CHARS = 300  # of an error answer's body, kept in the delivery's error


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (a platform's limit on a field), an ellipsis last."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ChatHttp:
    def __init__(
        self,
        provider: str,
        errors: Mapping[str, ErrorKind],
        *,
        timeout: float,
        allow_private: bool,
    ):
        self.provider = provider
        self._errors = errors
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(timeout=timeout)

    async def post_webhook(
        self, url: str, body: dict[str, Any], *, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST `body` as JSON to `url` and return the answer, whatever its status. Raises
        RefusedAddress (a private address), TransientSendError (a timeout, no connection)."""
        host = urlsplit(url).hostname or "?"
        try:
            response = await guarded_post(
                self._client, url, allow_private=self._allow_private, json=body, params=params
            )
        except httpx.TimeoutException as exc:
            raise TransientSendError(
                f"{self.provider}: {host} did not answer in time ({type(exc).__name__})",
                provider_down=False,
            ) from exc
        except httpx.TransportError as exc:
            raise TransientSendError(
                f"{self.provider}: cannot reach {host}: {type(exc).__name__} {exc}",
                provider_down=False,
            ) from exc
        return response

    def webhook_failure(
        self,
        response: httpx.Response,
        *,
        code: str | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
    ) -> SendError:
        """What a webhook's error answer means: by the provider's `code` for it (else its
        status) in the declared errors, then by HTTP; the wait is `retry_after` or the
        Retry-After header."""
        error = self.failure(
            code or str(response.status_code),
            detail if detail is not None else response.text[:MAX_DETAIL_CHARS],
            status=response.status_code,
            retry_after=retry_after
            if retry_after is not None
            else response.headers.get("Retry-After"),
        )
        if isinstance(error, TransientSendError):
            error.provider_down = False  # the recipient's URL, not the platform (see above)
        return error

    def failure(
        self,
        code: str,
        detail: str,
        *,
        status: int | None,
        retry_after: str | float | None = None,
    ) -> SendError:
        return error_for_code(
            self.provider, self._errors, code, detail, status=status, retry_after=retry_after
        )

    async def close(self) -> None:
        await self._client.aclose()
