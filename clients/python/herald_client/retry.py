"""When a strict call tries again: 429 and 503 (and 502/504 from a proxy) after `Retry-After`
or a backoff, and a connection that failed; never past `attempts` tries or `total_seconds`."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from herald_client.errors import retry_after

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # tries in all, the first included; 1: never retry
    total_seconds: float = 30.0  # no retry starts later than this after the first try
    initial_backoff: float = 0.5  # without Retry-After: 0.5 s, 1 s, 2 s... with jitter
    max_backoff: float = 8.0

    def backoff(self, retries_before: int) -> float:
        ceiling = min(self.max_backoff, self.initial_backoff * 2**retries_before)
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


def can_resend(outcome: httpx.Response | httpx.TransportError, idempotent: bool) -> bool:
    """Whether this failure may be tried again."""
    if isinstance(outcome, httpx.Response):
        return outcome.status_code in RETRY_STATUSES
    # A connection never made sent nothing; otherwise the request may have reached Herald, and
    # only a call whose repeat does nothing twice may go again.
    return isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout) or idempotent


class Attempts:
    """One call's tries: after each, `wait_before_next` says how long to sleep before the next
    one, or None when the outcome stands (a success, a refusal, or the budget spent)."""

    def __init__(
        self,
        policy: RetryPolicy,
        idempotent: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy, self.idempotent, self.clock = policy, idempotent, clock
        self.started = clock()
        self.tries = 0

    def wait_before_next(self, outcome: httpx.Response | httpx.TransportError) -> float | None:
        self.tries += 1
        if self.tries >= self.policy.attempts or not can_resend(outcome, self.idempotent):
            return None
        asked = retry_after(outcome.headers) if isinstance(outcome, httpx.Response) else None
        delay = asked if asked is not None else self.policy.backoff(self.tries - 1)
        if self.clock() + delay - self.started > self.policy.total_seconds:
            return None  # Herald asks for longer than the caller gave: the error says how long
        return delay
