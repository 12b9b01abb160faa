from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.policy.windows import DailyWindow
from tests.utils.times import utc

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")

NIGHT = (time(22), time(7))


def window(zone: ZoneInfo, start: time = NIGHT[0], end: time = NIGHT[1]) -> DailyWindow:
    return DailyWindow(start, end, zone)


def test_start_equal_to_end_is_refused() -> None:
    with pytest.raises(ValueError):
        DailyWindow(time(9), time(9), NEW_YORK)


class TestWindowCrossingMidnight:
    @pytest.mark.parametrize(
        ("wall", "inside"),
        [
            (time(21, 59, 59), False),
            (time(22), True),  # start inclusive
            (time(23, 30), True),
            (time(0), True),
            (time(3), True),
            (time(6, 59, 59), True),
            (time(7), False),  # end exclusive
            (time(12), False),
        ],
    )
    def test_contains(self, wall: time, inside: bool) -> None:
        instant = datetime.combine(datetime(2025, 6, 10), wall, tzinfo=NEW_YORK)
        assert window(NEW_YORK).contains(instant) is inside
        assert window(NEW_YORK).crosses_midnight

    def test_end_is_next_morning(self) -> None:
        instant = datetime(2025, 6, 10, 23, 30, tzinfo=NEW_YORK)
        end = window(NEW_YORK).first_instant_outside(instant)
        assert end == datetime(2025, 6, 11, 7, tzinfo=NEW_YORK)
        assert end == utc(2025, 6, 11, 11)

    def test_after_midnight_ends_same_morning(self) -> None:
        instant = datetime(2025, 6, 11, 2, tzinfo=NEW_YORK)
        assert window(NEW_YORK).first_instant_outside(instant) == utc(2025, 6, 11, 11)

    def test_outside_is_returned_unchanged(self) -> None:
        instant = utc(2025, 6, 11, 16)
        assert window(NEW_YORK).first_instant_outside(instant) == instant

    def test_occurrence_is_returned_in_utc(self) -> None:
        begin, end = window(NEW_YORK).occurrence(datetime(2025, 6, 10).date())
        assert (begin, end) == (utc(2025, 6, 11, 2), utc(2025, 6, 11, 11))


class TestWindowWithinOneDay:
    @pytest.mark.parametrize(
        ("wall", "inside"),
        [
            (time(12, 59, 59), False),
            (time(13), True),
            (time(14, 59, 59), True),
            (time(15), False),
            (time(23), False),
            (time(1), False),
        ],
    )
    def test_contains(self, wall: time, inside: bool) -> None:
        lunch = window(BERLIN, time(13), time(15))
        instant = datetime.combine(datetime(2025, 6, 10), wall, tzinfo=BERLIN)
        assert lunch.contains(instant) is inside
        assert not lunch.crosses_midnight

    def test_end(self) -> None:
        lunch = window(BERLIN, time(13), time(15))
        instant = datetime(2025, 6, 10, 13, 45, tzinfo=BERLIN)
        assert lunch.first_instant_outside(instant) == datetime(2025, 6, 10, 15, tzinfo=BERLIN)


class TestDstNights:
    def test_new_york_spring_forward_night_is_eight_hours(self) -> None:
        begin, end = window(NEW_YORK).occurrence(datetime(2025, 3, 8).date())
        assert begin == utc(2025, 3, 9, 3)  # 22:00 EST
        assert end == utc(2025, 3, 9, 11)  # 07:00 EDT
        assert end - begin == timedelta(hours=8)

    def test_new_york_fall_back_night_is_ten_hours(self) -> None:
        begin, end = window(NEW_YORK).occurrence(datetime(2025, 11, 1).date())
        assert begin == utc(2025, 11, 2, 2)  # 22:00 EDT
        assert end == utc(2025, 11, 2, 12)  # 07:00 EST
        assert end - begin == timedelta(hours=10)

    def test_new_york_both_0130s_are_inside(self) -> None:
        assert window(NEW_YORK).contains(utc(2025, 11, 2, 5, 30))  # 01:30 EDT
        assert window(NEW_YORK).contains(utc(2025, 11, 2, 6, 30))  # 01:30 EST

    def test_new_york_fall_back_end_from_second_0130(self) -> None:
        second_0130 = datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=NEW_YORK)
        assert window(NEW_YORK).first_instant_outside(second_0130) == utc(2025, 11, 2, 12)

    def test_berlin_spring_forward_night(self) -> None:
        begin, end = window(BERLIN).occurrence(datetime(2025, 3, 29).date())
        assert (begin, end) == (utc(2025, 3, 29, 21), utc(2025, 3, 30, 5))
        assert end - begin == timedelta(hours=8)

    def test_berlin_fall_back_night(self) -> None:
        begin, end = window(BERLIN).occurrence(datetime(2025, 10, 25).date())
        assert (begin, end) == (utc(2025, 10, 25, 20), utc(2025, 10, 26, 6))
        assert end - begin == timedelta(hours=10)

    def test_window_ending_in_the_gap_ends_at_the_jump(self) -> None:
        until_0230 = window(NEW_YORK, time(22), time(2, 30))
        instant = datetime(2025, 3, 9, 1, 45, tzinfo=NEW_YORK)
        assert until_0230.first_instant_outside(instant) == utc(2025, 3, 9, 7)  # 03:00 EDT

    def test_window_starting_in_the_gap_starts_at_the_jump(self) -> None:
        from_0230 = window(NEW_YORK, time(2, 30), time(6))
        assert not from_0230.contains(utc(2025, 3, 9, 6, 59, 59))  # 01:59:59 EST
        assert from_0230.contains(utc(2025, 3, 9, 7))  # 03:00 EDT

    def test_window_ending_at_an_ambiguous_time_ends_at_its_first_occurrence(self) -> None:
        until_0130 = window(NEW_YORK, time(22), time(1, 30))
        assert until_0130.contains(utc(2025, 11, 2, 5, 29))  # 01:29 EDT
        assert not until_0130.contains(utc(2025, 11, 2, 5, 45))  # 01:45 EDT
        assert not until_0130.contains(utc(2025, 11, 2, 6, 15))  # 01:15 EST, the repeat

    def test_occurrences_made_adjacent_by_a_gap_are_both_skipped(self) -> None:
        # 02:30-02:00 leaves only 02:00-02:30 free, which does not exist on 2025-03-09:
        # Saturday's occurrence ends at 03:00 EDT exactly where Sunday's begins.
        nearly_always = window(NEW_YORK, time(2, 30), time(2))
        instant = datetime(2025, 3, 9, 1, tzinfo=NEW_YORK)
        end = nearly_always.first_instant_outside(instant)
        assert end == datetime(2025, 3, 10, 2, tzinfo=NEW_YORK)
        assert not nearly_always.contains(end)


class TestNonHourOffset:
    def test_kolkata_night(self) -> None:
        instant = datetime(2025, 6, 10, 23, 30, tzinfo=KOLKATA)
        assert instant == utc(2025, 6, 10, 18)
        end = window(KOLKATA).first_instant_outside(instant)
        assert end == utc(2025, 6, 11, 1, 30)
        assert end.astimezone(KOLKATA).time() == time(7)

    def test_kolkata_boundaries(self) -> None:
        assert window(KOLKATA).contains(utc(2025, 6, 10, 16, 30))  # 22:00 IST
        assert not window(KOLKATA).contains(utc(2025, 6, 10, 16, 29, 59))
        assert not window(KOLKATA).contains(utc(2025, 6, 11, 1, 30))  # 07:00 IST
