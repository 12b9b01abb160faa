from datetime import time
from zoneinfo import ZoneInfoNotFoundError

import pytest

from domain.policy import AgendaScheduleSpec, agenda_schedule_spec, locale_weekend_days


def test_weekdays_only() -> None:
    spec = agenda_schedule_spec(time(8, 15), "America/New_York", True, {5, 6})
    assert spec == AgendaScheduleSpec(8, 15, (0, 1, 2, 3, 4), "America/New_York")
    assert spec.temporal_days_of_week == (1, 2, 3, 4, 5)  # Temporal counts from Sunday = 0


def test_with_weekends() -> None:
    spec = agenda_schedule_spec(time(8), "Europe/Berlin", False, {5, 6})
    assert spec.weekdays == (0, 1, 2, 3, 4, 5, 6)
    assert spec.temporal_days_of_week == (0, 1, 2, 3, 4, 5, 6)


def test_locale_weekend() -> None:
    spec = agenda_schedule_spec(time(7), "Asia/Riyadh", True, locale_weekend_days("ar-SA"))
    assert spec.weekdays == (0, 1, 2, 3, 6)  # Sunday to Thursday
    assert spec.temporal_days_of_week == (0, 1, 2, 3, 4)


def test_seconds_are_ignored() -> None:
    spec = agenda_schedule_spec(time(8, 30, 45), "UTC", False, set())
    assert (spec.hour, spec.minute) == (8, 30)


def test_every_day_a_weekend_never_fires() -> None:
    assert agenda_schedule_spec(time(8), "UTC", True, set(range(7))).weekdays == ()


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        agenda_schedule_spec(time(8), "Mars/Olympus_Mons", True, {5, 6})
