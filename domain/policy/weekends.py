"""Which days are a recipient's weekend, and where a notification moved off one lands."""

from collections.abc import Collection
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError

from domain.policy.wallclock import resolve_wall_time

SATURDAY_SUNDAY = frozenset({5, 6})
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def resolve_weekend_days(
    weekend_days: Collection[int] | None, locale: str | None
) -> frozenset[int]:
    """The recipient's weekend (0 = Monday): their explicit choice, else their locale's."""
    if weekend_days is not None:
        return frozenset(weekend_days)
    return locale_weekend_days(locale)


@lru_cache(maxsize=512)
def locale_weekend_days(locale: str | None) -> frozenset[int]:
    """The weekend of a locale per CLDR (`ar-SA` and `he-IL`: Friday-Saturday; `en-US`:
    Saturday-Sunday); Saturday-Sunday when the locale is unset or unknown."""
    if not locale:
        return SATURDAY_SUNDAY
    try:
        parsed = Locale.parse(locale.replace("-", "_"))  # Babel wants `ar_SA`, BCP 47 says `ar-SA`
    except (ValueError, UnknownLocaleError):
        return SATURDAY_SUNDAY
    # Babel numbers days like Python (0 = Monday); a weekend may wrap past Sunday.
    length = (parsed.weekend_end - parsed.weekend_start) % 7 + 1
    return frozenset((parsed.weekend_start + i) % 7 for i in range(length))


def is_weekend(instant: datetime, zone: ZoneInfo, weekend_days: Collection[int]) -> bool:
    return instant.astimezone(zone).weekday() in weekend_days


def same_time_next_weekday(
    instant: datetime, zone: ZoneInfo, weekend_days: Collection[int]
) -> datetime | None:
    """The local wall time of `instant` on the first later day that is not a weekend day,
    as a UTC instant; None when every day of the week is a weekend day."""
    local = instant.astimezone(zone)
    for days in range(1, 8):
        day = local.date() + timedelta(days=days)
        if day.weekday() not in weekend_days:
            return resolve_wall_time(day, local.time(), zone)
    return None
