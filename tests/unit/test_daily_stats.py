"""The daily statistics rollup's rules: which days are read from it, which from the deliveries,
and which a night's refresh recomputes."""

from datetime import UTC, date, datetime, timedelta

from domain.daily_stats import days_to_refresh, is_settled, midnight, split_range

D = date(2026, 3, 10)


def at(day: date, hours: float = 0) -> datetime:
    return midnight(day) + timedelta(hours=hours)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def test_a_day_is_settled_once_computed_after_it_left_the_live_window():
    assert not is_settled(D, at(D + timedelta(days=1), 23.9))  # while it was yesterday
    assert is_settled(D, at(D + timedelta(days=2)))
    assert is_settled(D, at(D + timedelta(days=40)))


def test_whole_settled_days_come_from_the_rollup_and_the_rest_from_the_deliveries():
    start, end = at(D), at(D + timedelta(days=10))
    settled = days(D, 4) + days(D + timedelta(days=6), 2)  # D+4, D+5 and D+8, D+9 missing

    rolled, raw = split_range(start, end, settled)

    assert rolled == settled
    assert raw == [
        (at(D + timedelta(days=4)), at(D + timedelta(days=6))),  # adjacent days: one range
        (at(D + timedelta(days=8)), end),
    ]


def test_partial_days_at_either_end_are_read_from_the_deliveries():
    start, end = at(D, 13.5), at(D + timedelta(days=3), 8)
    settled = days(D - timedelta(days=1), 6)  # all of them, and more

    rolled, raw = split_range(start, end, settled)

    assert rolled == days(D + timedelta(days=1), 2)
    assert raw == [(start, at(D + timedelta(days=1))), (at(D + timedelta(days=3)), end)]


def test_a_range_within_one_day_is_read_from_the_deliveries():
    start, end = at(D, 1), at(D, 5)
    assert split_range(start, end, [D]) == ([], [(start, end)])


def test_the_parts_cover_the_range_exactly_whatever_the_bounds():
    """Every hour of 12 days, split at any hours, lands in exactly one part."""
    settled = days(D, 12)[::2]
    for start_hour in range(0, 48, 7):
        for end_hour in range(200, 288, 11):
            start, end = at(D, start_hour), at(D, end_hour)
            rolled, raw = split_range(start, end, settled)
            hours = [at(D, h + 0.5) for h in range(-24, 300)]
            for moment in hours:
                in_rollup = moment.date() in rolled
                in_raw = any(a <= moment < b for a, b in raw)
                assert in_rollup + in_raw == (start <= moment < end), (start, end, moment)


def test_a_refresh_recomputes_the_recent_days_and_fills_what_is_missing():
    today = D
    long_ago = at(today)  # computed and settled: left alone unless recent
    computed = {today - timedelta(days=n): long_ago for n in range(2, 60)}
    del computed[today - timedelta(days=30)]  # a night the job did not run
    computed[today - timedelta(days=20)] = at(today - timedelta(days=19))  # computed too early

    refreshed = days_to_refresh(today, refresh_days=14, retention_days=90, computed=computed)

    recent = [today - timedelta(days=n) for n in range(2, 15)]  # 2 to 14 days old
    missing = [today - timedelta(days=n) for n in (20, 30, *range(60, 90))]
    assert refreshed == recent + missing  # newest first
    assert today - timedelta(days=1) not in refreshed  # yesterday is read live


def test_a_refresh_leaves_the_days_of_the_log_purge_alone():
    today = D
    refreshed = days_to_refresh(today, refresh_days=14, retention_days=30, computed={})
    assert min(refreshed) == today - timedelta(days=29)  # the purge cuts into the day before
    assert max(refreshed) == today - timedelta(days=2)
    assert days_to_refresh(today, refresh_days=14, retention_days=1, computed={}) == []


def test_midnight_is_utc():
    assert midnight(D) == datetime(2026, 3, 10, tzinfo=UTC)
