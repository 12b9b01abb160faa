"""How an HTTP provider's answer maps onto a permanent or a transient failure."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from channels.base import DeviceGoneError, PermanentSendError, SendError, TransientSendError
from channels.declaration import ErrorKind

MAX_RETRY_AFTER_SECONDS = 3600.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def error_for_status(
    provider: str,
    status: int,
    detail: str,
    *,
    retry_after: str | None = None,
    code: str | None = None,
    response: dict[str, Any] | None = None,
) -> SendError:
    message = f"{provider} answered {status}: {detail}".strip()
    response = {"status": status, **(response or {})}
    if status == 429 or status == 408 or status >= 500:
        return TransientSendError(
            message,
            retry_after=parse_retry_after(retry_after),
            provider_down=status != 429,  # 429 is flow control from a provider that is up
            code=code,
            response=response,
        )
    return PermanentSendError(
        message, code=code, response=response, provider_fault=status in (401, 403)
    )


def error_for_code(
    provider: str,
    errors: Mapping[str, ErrorKind],
    code: str,
    detail: str,
    *,
    status: int | None = None,
    retry_after: str | float | None = None,
    response: dict[str, Any] | None = None,
) -> SendError:
    """The failure a provider's error `code` means by its declaration's `errors` (a provider
    code such as FCM's UNREGISTERED, or an HTTP status as a string); a code not declared
    follows its HTTP status, and without one is transient (an unknown failure may pass)."""
    kind = errors.get(code) or (errors.get(str(status)) if status is not None else None)
    if kind is None:
        if status is not None:
            delay = retry_after if isinstance(retry_after, str) or retry_after is None else None
            err = error_for_status(
                provider, status, detail, retry_after=delay, code=code, response=response
            )
            if isinstance(retry_after, float | int) and isinstance(err, TransientSendError):
                err.retry_after = float(retry_after)
            return err
        kind = ErrorKind.TRANSIENT
    message = f"{provider}: {code}: {detail}".strip()
    response = {**({"status": status} if status is not None else {}), **(response or {})}
    if kind == ErrorKind.TRANSIENT:
        seconds = parse_retry_after(retry_after) if isinstance(retry_after, str) else retry_after
        return TransientSendError(
            message,
            retry_after=seconds,
            provider_down=status != 429,
            code=code,
            response=response,
        )
    if kind == ErrorKind.GONE:
        return DeviceGoneError(message, code=code, response=response)
    return PermanentSendError(
        message, code=code, response=response, provider_fault=kind == ErrorKind.PROVIDER_REFUSED
    )


def json_object(response: httpx.Response) -> dict[str, Any]:
    """A provider's answer as a JSON object; {} when it is not one (a proxy's error page)."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


@contextmanager
def transient_when_unreachable(what: str) -> Iterator[None]:
    """A call to an HTTP provider that timed out or could not connect may pass later."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientSendError(f"{what} timed out: {exc!r}") from exc
    except httpx.TransportError as exc:
        raise TransientSendError(f"{what} unreachable: {exc!r}") from exc
