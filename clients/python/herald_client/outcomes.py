"""What the outbox makes of Herald's answer to a request it sends, and its settings."""

from dataclasses import dataclass
from typing import Literal

import httpx

from herald_client.errors import problem_of
from herald_client.retry import RETRY_STATUSES

Verdict = Literal["sent", "retry", "dead"]

# Answers that a later try can change: the key fixed, the rate limit over, Herald back.
_RETRYABLE_4XX = frozenset({401, 403, 408, 425, 429})
# A 409 that says "not yet": a booking event whose booking.created has not arrived.
_RETRYABLE_CODES = frozenset({"booking_unknown"})


@dataclass(frozen=True)
class OutboxPolicy:
    initial_backoff: float = 1.0  # after the first failure; doubles, with jitter
    max_backoff: float = 300.0
    lease_seconds: float = 60.0  # longer than a request's timeout


DEFAULT_OUTBOX = OutboxPolicy()


@dataclass
class Counters:
    """Since this client started: requests kept, accepted, tried again, dead-lettered, and
    notify calls that could not be kept at all (logged)."""

    queued: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: int = 0


@dataclass
class DrainReport:
    sent: int = 0
    retry: int = 0
    dead: int = 0

    def add(self, verdict: Verdict) -> None:
        setattr(self, verdict, getattr(self, verdict) + 1)


def permanent(outcome: httpx.Response | httpx.TransportError) -> bool:
    """A refusal no retry can change: a 4xx other than those above."""
    if not isinstance(outcome, httpx.Response) or not 400 <= outcome.status_code < 500:
        return False
    if outcome.status_code in _RETRYABLE_4XX:
        return False
    return not (outcome.status_code == 409 and problem_of(outcome).get("code") in _RETRYABLE_CODES)


def unreachable(outcome: httpx.Response | httpx.TransportError) -> bool:
    """Herald down, overloaded or out of reach: every other request would fail alike now."""
    return isinstance(outcome, httpx.TransportError) or outcome.status_code in RETRY_STATUSES


def describe(outcome: httpx.Response | httpx.TransportError) -> str:
    if isinstance(outcome, httpx.TransportError):
        return f"{type(outcome).__name__}: {outcome}"
    problem = problem_of(outcome)
    return f"{outcome.status_code} {problem.get('code', '')}: {problem.get('detail', '')}"[:1000]
