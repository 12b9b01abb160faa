"""When a booking's reminders are due."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from domain.policy.wallclock import require_aware


class ReminderTime(NamedTuple):
    offset_minutes: float
    due_utc: datetime


def reminder_times(
    start_utc: datetime, offsets_minutes: Iterable[float], now_utc: datetime
) -> list[ReminderTime]:
    """One reminder per distinct offset, due `offset` minutes before `start_utc`, sorted by
    due time; offsets whose due time is already before `now_utc` are skipped, since a late
    reminder is worse than none (one due exactly at `now_utc` is kept).

    Offsets are real minutes, not wall-clock days: 1440 minutes before 09:00 on a
    spring-forward day (after the jump) is 08:00 the day before, local time.
    """
    start = require_aware(start_utc, "start_utc")
    now = require_aware(now_utc, "now_utc")
    due = (
        ReminderTime(offset, start - timedelta(minutes=offset)) for offset in set(offsets_minutes)
    )
    return sorted(
        (reminder for reminder in due if reminder.due_utc >= now), key=lambda r: r.due_utc
    )
