"""A circuit breaker per provider: after repeated failures, stop calling it for a cool-down.

Pure state machine; the caller passes the time. closed -> (threshold failures within the
window) -> open -> (cool-down elapsed) -> half_open: one trial call, then closed or open again.

Every call that `allows()` let through ends in exactly one `CallOutcome`, passed to `record()`:

- ACCEPTED: the provider answered and took the message. Closes the circuit.
- RECIPIENT_REFUSED: the provider answered and refused the recipient (a 550, a 400 on the
  address). The provider is up, so a half-open trial closes the circuit; while closed it
  neither counts as a failure nor clears the failures counted so far.
- PROVIDER_REFUSED: the provider refused Herald itself (401/403, credentials, account). A
  half-open trial opens the circuit again; while closed it is not counted (the delivery fails
  over at once anyway), as before.
- FAILED: a transient error or a timeout. Counts toward the threshold while closed; a half-open
  trial opens the circuit again.
- ABANDONED: the attempt was cancelled or raised something unexpected before the provider
  answered. No verdict: a half-open trial is released (the circuit stays half-open and the next
  call may try); while closed nothing changes.

So no trial is left in flight: a half-open circuit always admits a next trial once its one
trial has ended, however it ended.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CallOutcome(StrEnum):
    ACCEPTED = "accepted"
    RECIPIENT_REFUSED = "recipient_refused"
    PROVIDER_REFUSED = "provider_refused"
    FAILED = "failed"
    ABANDONED = "abandoned"


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
        retry_at = self.retry_at()
        if self.state == CircuitState.OPEN and retry_at and now >= retry_at:
            self.state = CircuitState.HALF_OPEN
        if self.state == CircuitState.CLOSED:
            return True
        if self.state == CircuitState.HALF_OPEN and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def record(self, outcome: CallOutcome, now: datetime) -> CircuitState:
        """End a call that `allows()` let through; see the module docstring for each outcome."""
        if outcome == CallOutcome.ACCEPTED:
            return self.record_success()
        if outcome == CallOutcome.FAILED:
            return self.record_failure(now)
        if outcome == CallOutcome.ABANDONED:
            return self.release_trial()
        if self.state != CircuitState.HALF_OPEN:
            return self.state  # a refusal while closed (or already open again) changes nothing
        if outcome == CallOutcome.RECIPIENT_REFUSED:
            return self.record_success()
        return self._open(now)  # PROVIDER_REFUSED

    def record_success(self) -> CircuitState:
        self.state, self.opened_at, self.failures, self.trial_in_flight = (
            CircuitState.CLOSED,
            None,
            [],
            False,
        )
        return self.state

    def record_failure(self, now: datetime) -> CircuitState:
        if self.state == CircuitState.HALF_OPEN:
            return self._open(now)
        self.failures = [t for t in self.failures if now - t < self.window] + [now]
        if len(self.failures) >= self.failure_threshold:
            return self._open(now)
        return self.state

    def release_trial(self) -> CircuitState:
        """The trial ended without a verdict: stay half-open and let the next call try.

        Only the caller that was handed the trial may release it (a call let through while
        the circuit was still closed must not free a trial someone else holds)."""
        self.trial_in_flight = False
        return self.state

    def retry_at(self) -> datetime | None:
        return self.opened_at + self.cool_down if self.opened_at else None

    def _open(self, now: datetime) -> CircuitState:
        self.state, self.opened_at, self.failures, self.trial_in_flight = (
            CircuitState.OPEN,
            now,
            [],
            False,
        )
        return self.state
