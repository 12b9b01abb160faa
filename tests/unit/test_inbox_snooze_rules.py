"""How far ahead a message may be snoozed, and what the daily purge keeps: pure rules."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.inbox_snooze import MAX_SNOOZE, outlives_message, snooze_problem
from domain.maintenance import PurgeCutoffs, PurgeInput

NOW = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
FIVE_MINUTES = timedelta(minutes=5)


@pytest.mark.parametrize(
    "ahead", [FIVE_MINUTES, timedelta(hours=3), MAX_SNOOZE], ids=["5 min", "3 h", "90 days"]
)
def test_a_snooze_within_the_bounds_is_fine(ahead):
    assert snooze_problem(NOW + ahead, NOW, FIVE_MINUTES) is None


@pytest.mark.parametrize(
    "ahead, problem",
    [
        (FIVE_MINUTES - timedelta(seconds=1), "must be at least 5 minutes ahead (it is 299 s"),
        (timedelta(0), "must be at least 5 minutes ahead (it is in the past)"),
        (-timedelta(days=1), "must be at least 5 minutes ahead (it is in the past)"),
        (MAX_SNOOZE + timedelta(seconds=1), "must be at most 90 days ahead"),
    ],
)
def test_a_snooze_out_of_bounds_says_which_bound(ahead, problem):
    assert (snooze_problem(NOW + ahead, NOW, FIVE_MINUTES) or "").startswith(problem)


def test_the_shortest_snooze_is_a_setting():
    assert snooze_problem(NOW + timedelta(seconds=2), NOW, timedelta(seconds=1)) is None
    assert "at least 1 second ahead" in (snooze_problem(NOW, NOW, timedelta(seconds=1)) or "")


def test_a_message_may_not_sleep_past_its_expiry():
    expires = NOW + timedelta(hours=1)
    assert outlives_message(NOW + timedelta(minutes=59), expires) is None
    assert outlives_message(NOW + timedelta(hours=2), None) is None
    assert "before the message expires (2026-03-05T10:00:00+00:00)" in (
        outlives_message(expires, expires) or ""
    )


def test_each_purge_has_its_own_cutoff():
    cutoffs = PurgeCutoffs.of(
        PurgeInput(
            retention_days=90,
            inbox_event_retention_days=7,
            inbox_archived_retention_days=30,
            inbox_expired_grace_hours=24,
        ),
        NOW,
    )
    assert cutoffs == PurgeCutoffs(
        logs=NOW - timedelta(days=90),
        inbox_events=NOW - timedelta(days=7),
        archived_messages=NOW - timedelta(days=30),
        expired_messages=NOW - timedelta(hours=24),
    )
