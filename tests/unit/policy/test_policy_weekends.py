from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.policy import locale_weekend_days, resolve_weekend_days
from domain.policy.weekends import same_time_next_weekday


@pytest.mark.parametrize(
    ("locale", "weekend"),
    [
        ("en-US", {5, 6}),
        ("en_US", {5, 6}),
        ("de-DE", {5, 6}),
        ("ar-SA", {4, 5}),
        ("he-IL", {4, 5}),
        ("fa-IR", {4}),
        ("en-IN", {6}),
        (None, {5, 6}),
        ("", {5, 6}),
        ("xx-YY", {5, 6}),  # unknown locale
        ("!!", {5, 6}),  # not a locale at all
    ],
)
def test_locale_weekend_days(locale: str | None, weekend: set[int]) -> None:
    assert locale_weekend_days(locale) == frozenset(weekend)


def test_explicit_days_win_over_the_locale() -> None:
    assert resolve_weekend_days([6], "ar-SA") == frozenset({6})


def test_explicit_empty_weekend_means_none() -> None:
    assert resolve_weekend_days([], "en-US") == frozenset()


def test_unset_days_come_from_the_locale() -> None:
    assert resolve_weekend_days(None, "ar-SA") == frozenset({4, 5})


class TestSameTimeNextWeekday:
    def test_saturday_to_monday(self) -> None:
        saturday = datetime(2025, 6, 14, 10, tzinfo=UTC)
        moved = same_time_next_weekday(saturday, ZoneInfo("UTC"), {5, 6})
        assert moved == datetime(2025, 6, 16, 10, tzinfo=UTC)

    def test_wrapping_weekend(self) -> None:
        # A Sunday-Monday weekend: Sunday moves to Tuesday.
        sunday = datetime(2025, 6, 15, 10, tzinfo=UTC)
        moved = same_time_next_weekday(sunday, ZoneInfo("UTC"), {6, 0})
        assert moved == datetime(2025, 6, 17, 10, tzinfo=UTC)

    def test_no_weekday_at_all(self) -> None:
        sunday = datetime(2025, 6, 15, 10, tzinfo=UTC)
        assert same_time_next_weekday(sunday, ZoneInfo("UTC"), set(range(7))) is None
