"""Typed errors of the strict calls, read from Herald's RFC 9457 problem details.

Herald answers every refusal with `application/problem+json`: `code` says what happened (for a
program), `errors` names each input at fault (`{"field": "recipient.email", "problem": "..."}`).
"""

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class FieldProblem:
    field: str
    problem: str


class HeraldError(Exception):
    """Any refusal or failure of a call to Herald."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        errors: list[FieldProblem] | None = None,
        body: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.errors = errors or []
        self.body = body or {}  # the problem document as Herald sent it
        self.retry_after = retry_after

    @property
    def detail(self) -> str:
        return str(self.args[0])


class ValidationError(HeraldError):
    """An input Herald (or the client, before sending) refused: 400, 413 or 422.
    `field` and `problem` are the first input at fault; `errors` has them all."""

    @property
    def field(self) -> str | None:
        return self.errors[0].field if self.errors else None

    @property
    def problem(self) -> str | None:
        return self.errors[0].problem if self.errors else None


class Unauthorized(HeraldError):
    """401 or 403: the API key is missing, wrong or revoked."""


class NotFound(HeraldError):
    """404: no such resource for this tenant."""


class Conflict(HeraldError):
    """409: the request conflicts with what Herald recorded (`code`: `idempotency_conflict`,
    `event_conflict`, `already_finished`, `booking_unknown`...); nothing was changed."""


class Gone(HeraldError):
    """410: the resource has ended (`booking_ended`)."""


class RateLimited(HeraldError):
    """429, still after the client's retries; `retry_after` in seconds when Herald said."""


class Unavailable(HeraldError):
    """5xx, or Herald could not be reached, still after the client's retries."""


_BY_STATUS: dict[int, type[HeraldError]] = {
    400: ValidationError,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: ValidationError,
    422: ValidationError,
    429: RateLimited,
}


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from a `Retry-After` header (delay-seconds or an HTTP date), if any."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem document of a refusal; {} when the body is not one (a proxy's HTML page)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_for(response: httpx.Response) -> HeraldError:
    """The typed error for a non-2xx answer."""
    body = problem_of(response)
    status = response.status_code
    kind = _BY_STATUS.get(status) or (Unavailable if status >= 500 else HeraldError)
    errors = [
        FieldProblem(str(e.get("field", "")), str(e.get("problem", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    detail = body.get("detail") or body.get("title") or f"HTTP {status}"
    return kind(
        f"{status} {detail}",
        status=status,
        code=body.get("code"),
        errors=errors,
        body=body,
        retry_after=retry_after(response.headers),
    )


def unreachable(exc: httpx.TransportError) -> Unavailable:
    return Unavailable(f"Herald could not be reached: {type(exc).__name__}: {exc}")
