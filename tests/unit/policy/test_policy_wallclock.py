from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.policy.wallclock import (
    next_top_of_hour,
    next_wall_time,
    require_aware,
    resolve_wall_time,
)
from tests.utils.times import utc

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


class TestRequireAware:
    def test_converts_to_utc(self) -> None:
        assert require_aware(datetime(2025, 1, 1, 9, tzinfo=NEW_YORK), "x") == utc(2025, 1, 1, 14)
        assert require_aware(datetime(2025, 1, 1, 9, tzinfo=NEW_YORK), "x").tzinfo is UTC

    def test_refuses_naive(self) -> None:
        with pytest.raises(ValueError, match="now must be timezone-aware"):
            require_aware(datetime(2025, 1, 1), "now")


class TestResolveWallTime:
    def test_ordinary_time(self) -> None:
        assert resolve_wall_time(date(2025, 1, 15), time(9), NEW_YORK) == utc(2025, 1, 15, 14)
        assert resolve_wall_time(date(2025, 7, 15), time(9), NEW_YORK) == utc(2025, 7, 15, 13)

    def test_non_hour_offset(self) -> None:
        assert resolve_wall_time(date(2025, 1, 15), time(9), KOLKATA) == utc(2025, 1, 15, 3, 30)

    def test_time_skipped_by_spring_forward_resolves_to_the_jump_new_york(self) -> None:
        # 02:00 EST jumps to 03:00 EDT: 02:30 never shows; the first instant after it is 03:00.
        resolved = resolve_wall_time(date(2025, 3, 9), time(2, 30), NEW_YORK)
        assert resolved == utc(2025, 3, 9, 7)
        assert resolved.astimezone(NEW_YORK).time() == time(3)

    def test_start_of_gap_is_skipped_too(self) -> None:
        assert resolve_wall_time(date(2025, 3, 9), time(2), NEW_YORK) == utc(2025, 3, 9, 7)

    def test_time_skipped_by_spring_forward_berlin(self) -> None:
        resolved = resolve_wall_time(date(2025, 3, 30), time(2, 15), BERLIN)
        assert resolved == utc(2025, 3, 30, 1)
        assert resolved.astimezone(BERLIN).time() == time(3)

    def test_ambiguous_time_uses_first_occurrence_new_york(self) -> None:
        # 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
        assert resolve_wall_time(date(2025, 11, 2), time(1, 30), NEW_YORK) == utc(
            2025, 11, 2, 5, 30
        )

    def test_ambiguous_time_uses_first_occurrence_even_if_asked_for_fold_1(self) -> None:
        wall = time(1, 30, fold=1)
        assert resolve_wall_time(date(2025, 11, 2), wall, NEW_YORK) == utc(2025, 11, 2, 5, 30)

    def test_ambiguous_time_uses_first_occurrence_berlin(self) -> None:
        # 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
        assert resolve_wall_time(date(2025, 10, 26), time(2, 30), BERLIN) == utc(
            2025, 10, 26, 0, 30
        )

    def test_times_next_to_the_gap_are_untouched(self) -> None:
        assert resolve_wall_time(date(2025, 3, 9), time(1, 59), NEW_YORK) == utc(2025, 3, 9, 6, 59)
        assert resolve_wall_time(date(2025, 3, 9), time(3), NEW_YORK) == utc(2025, 3, 9, 7)

    def test_half_hour_gap(self) -> None:
        # Lord Howe springs forward by 30 minutes, 02:00 -> 02:30, on 2025-10-05.
        resolved = resolve_wall_time(date(2025, 10, 5), time(2, 10), LORD_HOWE)
        assert resolved.astimezone(LORD_HOWE).time() == time(2, 30)

    def test_whole_skipped_day(self) -> None:
        # Samoa skipped 2011-12-30 when it crossed the date line.
        apia = ZoneInfo("Pacific/Apia")
        resolved = resolve_wall_time(date(2011, 12, 30), time(9), apia)
        assert resolved.astimezone(apia) == datetime(2011, 12, 31, 0, 0, tzinfo=apia)


class TestNextWallTime:
    def test_later_today(self) -> None:
        after = datetime(2025, 6, 10, 8, tzinfo=NEW_YORK)
        assert next_wall_time(after, time(9), NEW_YORK) == datetime(2025, 6, 10, 9, tzinfo=NEW_YORK)

    def test_tomorrow_when_passed(self) -> None:
        after = datetime(2025, 6, 10, 10, tzinfo=NEW_YORK)
        assert next_wall_time(after, time(9), NEW_YORK) == datetime(2025, 6, 11, 9, tzinfo=NEW_YORK)

    def test_exactly_at_the_time_is_now(self) -> None:
        after = datetime(2025, 6, 10, 9, tzinfo=NEW_YORK)
        assert next_wall_time(after, time(9), NEW_YORK) == after

    def test_weekday_filter(self) -> None:
        tuesday = datetime(2025, 6, 10, 10, tzinfo=NEW_YORK)
        expected = datetime(2025, 6, 16, 9, tzinfo=NEW_YORK)  # Monday
        assert next_wall_time(tuesday, time(9), NEW_YORK, weekdays={0}) == expected

    def test_same_weekday_after_the_time_is_next_week(self) -> None:
        monday = datetime(2025, 6, 9, 10, tzinfo=NEW_YORK)
        expected = datetime(2025, 6, 16, 9, tzinfo=NEW_YORK)
        assert next_wall_time(monday, time(9), NEW_YORK, weekdays={0}) == expected

    def test_across_spring_forward_is_23_real_hours(self) -> None:
        after = datetime(2025, 3, 8, 9, 0, 1, tzinfo=NEW_YORK)
        result = next_wall_time(after, time(9), NEW_YORK)
        assert result == utc(2025, 3, 9, 13)
        assert result - after == timedelta(hours=23) - timedelta(seconds=1)

    def test_skipped_wall_time_resolves_to_the_jump(self) -> None:
        after = datetime(2025, 3, 9, 0, 0, tzinfo=NEW_YORK)
        assert next_wall_time(after, time(2, 30), NEW_YORK) == utc(2025, 3, 9, 7)

    def test_needs_a_weekday(self) -> None:
        with pytest.raises(ValueError):
            next_wall_time(utc(2025, 1, 1), time(9), NEW_YORK, weekdays=set())


class TestNextTopOfHour:
    def test_utc(self) -> None:
        assert next_top_of_hour(utc(2025, 1, 1, 10, 5), ZoneInfo("UTC")) == utc(2025, 1, 1, 11)

    def test_exactly_on_the_hour_is_now(self) -> None:
        assert next_top_of_hour(utc(2025, 1, 1, 10), ZoneInfo("UTC")) == utc(2025, 1, 1, 10)

    def test_a_second_past_is_next_hour(self) -> None:
        after = utc(2025, 1, 1, 10, 0, 0, 1)
        assert next_top_of_hour(after, ZoneInfo("UTC")) == utc(2025, 1, 1, 11)

    def test_kolkata_hours_start_at_half_past_utc(self) -> None:
        # 10:05Z is 15:35 IST; 16:00 IST is 10:30Z.
        assert next_top_of_hour(utc(2025, 1, 1, 10, 5), KOLKATA) == utc(2025, 1, 1, 10, 30)

    def test_spring_forward_skips_the_missing_hour(self) -> None:
        after = datetime(2025, 3, 9, 1, 30, tzinfo=NEW_YORK)
        result = next_top_of_hour(after, NEW_YORK)
        assert result == utc(2025, 3, 9, 7)
        assert result.astimezone(NEW_YORK).time() == time(3)

    def test_fall_back_repeats_the_hour(self) -> None:
        first_0130 = utc(2025, 11, 2, 5, 30)  # 01:30 EDT
        assert next_top_of_hour(first_0130, NEW_YORK) == utc(2025, 11, 2, 6)  # 01:00 EST

    def test_half_hour_fall_back(self) -> None:
        # Lord Howe falls back 02:00 (+11) -> 01:30 (+10:30) on 2025-04-06 at 15:00Z.
        result = next_top_of_hour(utc(2025, 4, 5, 15, 10), LORD_HOWE)
        assert result == utc(2025, 4, 5, 15, 30)
        assert result.astimezone(LORD_HOWE).time() == time(2)
