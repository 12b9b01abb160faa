"""The circuit breaker's state machine."""

from datetime import UTC, datetime, timedelta

from activities.circuits import _outcome
from channels.base import TransientSendError
from channels.http_status import error_for_status
from channels.smtp import _for_code
from domain.circuit import CallOutcome, CircuitBreaker, CircuitState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def breaker() -> CircuitBreaker:
    return CircuitBreaker(
        failure_threshold=3, window=timedelta(seconds=60), cool_down=timedelta(seconds=30)
    )


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


# Every trial handed out in half-open ends in exactly one outcome (issue 10).


def half_open() -> tuple[CircuitBreaker, datetime]:
    """A breaker whose cool-down has passed and whose one trial has just been handed out."""
    b = breaker()
    for i in range(3):
        b.record_failure(T0 + timedelta(seconds=i))
    later = T0 + timedelta(seconds=40)
    assert b.allows(later) and b.state == CircuitState.HALF_OPEN and b.trial_in_flight
    return b, later


def test_a_trial_refused_for_the_recipient_closes_it():
    b, later = half_open()
    assert b.record(CallOutcome.RECIPIENT_REFUSED, later) == CircuitState.CLOSED
    assert not b.trial_in_flight and b.opened_at is None
    assert b.allows(later) and b.allows(later)  # closed: every call goes through


def test_a_trial_refusing_herald_opens_it_again():
    b, later = half_open()
    assert b.record(CallOutcome.PROVIDER_REFUSED, later) == CircuitState.OPEN
    assert not b.allows(later + timedelta(seconds=29))
    assert b.allows(later + timedelta(seconds=30))  # and a new trial after the next cool-down


def test_a_trial_failing_transiently_opens_it_again():
    b, later = half_open()
    assert b.record(CallOutcome.FAILED, later) == CircuitState.OPEN
    assert b.retry_at() == later + timedelta(seconds=30)
    assert not b.allows(later + timedelta(seconds=29))
    assert b.allows(later + timedelta(seconds=30))


def test_an_accepted_trial_closes_it():
    b, later = half_open()
    assert b.record(CallOutcome.ACCEPTED, later) == CircuitState.CLOSED
    assert b.allows(later)


def test_an_abandoned_trial_is_released_and_the_next_call_may_try():
    b, later = half_open()
    assert b.record(CallOutcome.ABANDONED, later) == CircuitState.HALF_OPEN
    assert not b.trial_in_flight
    assert b.allows(later)  # the next trial
    assert not b.allows(later)  # still one at a time
    assert b.release_trial() == CircuitState.HALF_OPEN
    assert b.allows(later)


def test_a_second_concurrent_trial_is_still_refused_whatever_the_first_becomes():
    for outcome in CallOutcome:
        b, later = half_open()
        assert not b.allows(later), outcome  # the trial is in flight
        b.record(outcome, later)
        assert not b.trial_in_flight, outcome  # no outcome leaves it in flight


def test_refusals_while_closed_change_nothing():
    """Closed behaviour is as before: only transient failures count toward the threshold."""
    b = breaker()
    b.record(CallOutcome.FAILED, T0)
    b.record(CallOutcome.FAILED, T0 + timedelta(seconds=1))
    refusals = (CallOutcome.RECIPIENT_REFUSED, CallOutcome.PROVIDER_REFUSED, CallOutcome.ABANDONED)
    for outcome in refusals:
        for _ in range(3):
            assert b.record(outcome, T0 + timedelta(seconds=2)) == CircuitState.CLOSED, outcome
    assert len(b.failures) == 2
    assert b.record(CallOutcome.FAILED, T0 + timedelta(seconds=3)) == CircuitState.OPEN


def test_an_answer_about_one_message_is_not_an_outage():
    """activities/circuits reads the provider's errors: 429 and greylisting say it is up."""
    assert _outcome(TransientSendError("unreachable")) == CallOutcome.FAILED
    assert _outcome(error_for_status("sendgrid", 503, "down")) == CallOutcome.FAILED
    assert _outcome(_for_code(421, "closing")) == CallOutcome.FAILED
    assert _outcome(error_for_status("sendgrid", 429, "slow down")) == CallOutcome.RECIPIENT_REFUSED
    assert _outcome(_for_code(451, "greylisted")) == CallOutcome.RECIPIENT_REFUSED
