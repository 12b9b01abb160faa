from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.policy import ReminderTime, reminder_times

START = datetime(2025, 6, 10, 15, tzinfo=UTC)
LONG_BEFORE = datetime(2025, 6, 1, tzinfo=UTC)


def test_due_times_sorted_by_due() -> None:
    assert reminder_times(START, [60, 1440], LONG_BEFORE) == [
        ReminderTime(1440, datetime(2025, 6, 9, 15, tzinfo=UTC)),
        ReminderTime(60, datetime(2025, 6, 10, 14, tzinfo=UTC)),
    ]


def test_unsorted_offsets() -> None:
    offsets = [offset for offset, _ in reminder_times(START, [15, 1440, 60], LONG_BEFORE)]
    assert offsets == [1440, 60, 15]


def test_past_offsets_are_skipped_not_sent_late() -> None:
    now = datetime(2025, 6, 10, 12, tzinfo=UTC)  # the 1440 reminder was due yesterday
    assert reminder_times(START, [1440, 60], now) == [
        ReminderTime(60, datetime(2025, 6, 10, 14, tzinfo=UTC))
    ]


def test_due_exactly_now_is_kept() -> None:
    now = START - timedelta(minutes=60)
    assert reminder_times(START, [60], now) == [ReminderTime(60, now)]


def test_everything_past() -> None:
    assert reminder_times(START, [60, 1440], START) == []


def test_duplicate_offsets_once() -> None:
    assert [r.offset_minutes for r in reminder_times(START, [60, 1440, 60], LONG_BEFORE)] == [
        1440,
        60,
    ]


def test_no_offsets() -> None:
    assert reminder_times(START, [], LONG_BEFORE) == []


def test_offsets_are_real_minutes_across_spring_forward() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2025, 3, 9, 9, tzinfo=new_york)  # Sunday 09:00 EDT, hours after the jump
    ((offset, due),) = reminder_times(start, [1440], LONG_BEFORE.replace(month=3))
    assert (offset, due) == (1440, datetime(2025, 3, 8, 13, tzinfo=UTC))
    assert due.astimezone(new_york) == datetime(2025, 3, 8, 8, tzinfo=new_york)  # 08:00 EST


def test_results_are_utc() -> None:
    start = datetime(2025, 6, 10, 9, tzinfo=ZoneInfo("Asia/Kolkata"))
    ((_, due),) = reminder_times(start, [30], LONG_BEFORE)
    assert due == datetime(2025, 6, 10, 3, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        reminder_times(datetime(2025, 6, 10, 15), [60], LONG_BEFORE)
    with pytest.raises(ValueError):
        reminder_times(START, [60], datetime(2025, 6, 1))
