"""A circuit breaker per provider: after repeated failures, stop calling it for a cool-down.

Pure state machine; the caller passes the time. closed -> (threshold failures within the
window) -> open -> (cool-down elapsed) -> half_open: one trial call; success closes it,
failure opens it again.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    window: timedelta = timedelta(minutes=1)
    cool_down: timedelta = timedelta(seconds=30)
    state: CircuitState = CircuitState.CLOSED
    opened_at: datetime | None = None
    failures: list[datetime] = field(default_factory=list)
    trial_in_flight: bool = False

    def allows(self, now: datetime) -> bool:
        """May a call go to the provider now? In half-open, only one trial at a time."""
        if self.state == CircuitState.OPEN and now - self.opened_at >= self.cool_down:
            self.state = CircuitState.HALF_OPEN
        if self.state == CircuitState.CLOSED:
            return True
        if self.state == CircuitState.HALF_OPEN and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def record_success(self) -> CircuitState:
        self.state, self.opened_at, self.failures, self.trial_in_flight = CircuitState.CLOSED, None, [], False
        return self.state

    def record_failure(self, now: datetime) -> CircuitState:
        if self.state == CircuitState.HALF_OPEN:
            return self._open(now)
        self.failures = [t for t in self.failures if now - t < self.window] + [now]
        if len(self.failures) >= self.failure_threshold:
            return self._open(now)
        return self.state

    def retry_at(self) -> datetime | None:
        return self.opened_at + self.cool_down if self.opened_at else None

    def _open(self, now: datetime) -> CircuitState:
        self.state, self.opened_at, self.failures, self.trial_in_flight = CircuitState.OPEN, now, [], False
        return self.state
