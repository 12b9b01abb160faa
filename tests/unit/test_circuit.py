"""The circuit breaker's state machine."""

from datetime import datetime, timedelta, timezone

from domain.circuit import CircuitBreaker, CircuitState

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def breaker() -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, window=timedelta(seconds=60), cool_down=timedelta(seconds=30))


def test_opens_after_threshold_failures_within_the_window():
    b = breaker()
    assert b.record_failure(T0) == CircuitState.CLOSED
    assert b.record_failure(T0 + timedelta(seconds=1)) == CircuitState.CLOSED
    assert b.record_failure(T0 + timedelta(seconds=2)) == CircuitState.OPEN
    assert not b.allows(T0 + timedelta(seconds=3))
    assert b.retry_at() == T0 + timedelta(seconds=32)


def test_failures_outside_the_window_do_not_count():
    b = breaker()
    b.record_failure(T0)
    b.record_failure(T0 + timedelta(seconds=10))
    assert b.record_failure(T0 + timedelta(seconds=70)) == CircuitState.CLOSED


def test_half_open_lets_one_trial_through_and_closes_on_success():
    b = breaker()
    for i in range(3):
        b.record_failure(T0 + timedelta(seconds=i))
    later = T0 + timedelta(seconds=40)
    assert b.allows(later) and b.state == CircuitState.HALF_OPEN
    assert not b.allows(later)  # only one trial at a time
    assert b.record_success() == CircuitState.CLOSED
    assert b.allows(later)


def test_a_failed_trial_opens_it_again():
    b = breaker()
    for i in range(3):
        b.record_failure(T0 + timedelta(seconds=i))
    later = T0 + timedelta(seconds=40)
    assert b.allows(later)
    assert b.record_failure(later) == CircuitState.OPEN
    assert not b.allows(later + timedelta(seconds=29))
    assert b.allows(later + timedelta(seconds=30))


def test_success_resets_the_failure_count():
    b = breaker()
    b.record_failure(T0)
    b.record_failure(T0)
    b.record_success()
    assert b.record_failure(T0) == CircuitState.CLOSED
