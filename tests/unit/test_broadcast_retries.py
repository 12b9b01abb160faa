"""The broadcast's retry sweeps (domain/broadcast_retries.py) and its progress figures
(domain/broadcasts.broadcast_progress): pure rules the workflow follows."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.broadcast_retries import RetrySweeps
from domain.broadcasts import (
    BroadcastCounters,
    BroadcastStatus,
    SendBatchResult,
    broadcast_progress,
)
from domain.contracts import DeliveryRetry

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RETRY = DeliveryRetry(initial_seconds=1.0, max_interval_seconds=10.0, max_total_seconds=60.0)
RETRYING = SendBatchResult(retrying=1)


def sweeps(retry: DeliveryRetry = RETRY) -> RetrySweeps:
    made = RetrySweeps(retry)
    made.open_window(START)
    made.page_sent("email", RETRYING)
    return made


def waits(made: RetrySweeps, count: int) -> list[float]:
    """The waits before `count` sweeps, each sweep leaving a failure behind."""
    now, found = START, []
    for _ in range(count):
        due = made.next_due(now)
        assert due is not None
        found.append((due - now).total_seconds())
        now = due
        final = made.is_last(now)
        made.swept()
        made.all_sent("email", RETRYING, final)
        if final:
            break
    return found


def test_sweeps_back_off_doubling_to_the_longest_interval_and_end_with_the_window():
    made = sweeps()

    assert waits(made, 20) == [1, 2, 4, 8, 10, 10, 10, 10, 5]  # 60 s in all
    assert made.channels == set() and made.next_due(START + timedelta(minutes=2)) is None


def test_the_last_sweep_is_the_one_at_the_windows_end_or_when_the_attempts_are_spent():
    made = sweeps()
    assert not made.is_last(START + timedelta(seconds=59))
    assert made.is_last(START + timedelta(seconds=60))

    bounded = sweeps(DeliveryRetry(max_attempts=3, initial_seconds=1.0, max_total_seconds=60.0))
    assert waits(bounded, 20) == [1, 2]  # the first send, then two sweeps


def test_a_providers_retry_after_is_waited_at_least():
    made = RetrySweeps(RETRY)
    made.open_window(START)
    made.page_sent("sms", SendBatchResult(retrying=2, retry_after_seconds=30.0))

    assert made.next_due(START) == START + timedelta(seconds=30)


def test_a_page_without_failures_leaves_earlier_pages_failures_to_sweep():
    made = sweeps()
    made.page_sent("email", SendBatchResult(sent=5))

    assert made.channels == {"email"}


def test_failures_cleared_then_new_ones_back_off_afresh_in_a_window_reopened():
    made = sweeps()
    waits(made, 3)  # three sweeps in, still failing
    made.swept()
    made.all_sent("email", SendBatchResult(sent=1), final=False)  # the failure healed
    assert made.round == 0 and made.channels == set()

    later = START + timedelta(hours=5)  # deferred deliveries released and sent
    made.open_window(later)
    made.all_sent("email", RETRYING, final=False)

    assert made.next_due(later) == later + timedelta(seconds=1)
    assert made.window_ends == later + timedelta(seconds=60)


def test_progress_rate_and_eta_from_the_counters():
    counters = BroadcastCounters(total=1000, planned=250, sent=200)

    progress = broadcast_progress(
        BroadcastStatus.RUNNING, counters, START, START + timedelta(seconds=10)
    )

    assert progress.rate_per_second == pytest.approx(25.0)
    assert progress.eta_seconds == pytest.approx(30.0)
    assert (progress.planned, progress.sent, progress.total) == (250, 200, 1000)
    scheduled = broadcast_progress(BroadcastStatus.SCHEDULED, BroadcastCounters(), None, START)
    assert (scheduled.rate_per_second, scheduled.eta_seconds) == (None, None)
