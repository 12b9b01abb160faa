"""How an HTTP provider's answer maps onto a permanent or a transient failure."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from channels.base import PermanentSendError, SendError, TransientSendError

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
