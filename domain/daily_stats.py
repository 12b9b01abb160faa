"""The daily statistics rollup's rules: which days a count may take from the rollup, which it
reads from the deliveries themselves, and which days the nightly refresh recomputes.

The rollup (table daily_stats) holds, per closed UTC day, how many deliveries of each tenant
were created that day per channel, provider, template version, event key and status. Counting a
tenant's 90 days from it reads a few thousand rows instead of every delivery. It is a copy: a
status that changes after a day was computed reaches the rollup only when the day is computed
again, so:

- the last RAW_DAYS days (today and yesterday) are always counted from the deliveries, where
  sends settle and most provider events arrive;
- an older day is read from the rollup only once it is *settled*: computed after it left that
  live window (so nothing that was visible live is lost when the day changes source), else from
  the deliveries;
- each night the refresh recomputes the days 2 to `refresh_days` days old (late opens, clicks
  and bounces arrive within days), and any day of the retention that is missing or unsettled.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta

RAW_DAYS = 2  # today and yesterday: counted from the deliveries, never from the rollup
ONE_DAY = timedelta(days=1)

TimeRange = tuple[datetime, datetime]  # [start, end)


def midnight(day: date) -> datetime:
    """The start of a UTC day."""
    return datetime.combine(day, time(), UTC)


def is_settled(day: date, computed_at: datetime) -> bool:
    """Whether a day's rollup may be read: computed once the day had left the live window, so
    it holds every change made while the day was counted from the deliveries."""
    return computed_at >= midnight(day + timedelta(days=RAW_DAYS))


def split_range(
    start: datetime, end: datetime, settled: Iterable[date]
) -> tuple[list[date], list[TimeRange]]:
    """[start, end) as the settled days read from the rollup (whole UTC days inside the range)
    and the time ranges read from the deliveries (the rest, adjacent parts merged), in order."""
    settled = set(settled)
    rolled: list[date] = []
    raw: list[TimeRange] = []

    def read_raw(part_start: datetime, part_end: datetime) -> None:
        if part_start >= part_end:
            return
        if raw and raw[-1][1] == part_start:
            raw[-1] = (raw[-1][0], part_end)
        else:
            raw.append((part_start, part_end))

    day = start.astimezone(UTC).date()
    if midnight(day) < start:  # a range starting within a day reads that day's part raw
        read_raw(start, min(midnight(day + ONE_DAY), end))
        day += ONE_DAY
    while midnight(day + ONE_DAY) <= end:
        if day in settled:
            rolled.append(day)
        else:
            read_raw(midnight(day), midnight(day + ONE_DAY))
        day += ONE_DAY
    read_raw(max(midnight(day), start), end)  # a range ending within a day
    return rolled, raw


def days_to_refresh(
    today: date, refresh_days: int, retention_days: int, computed: Mapping[date, datetime]
) -> list[date]:
    """The days a refresh on `today` (UTC) recomputes, newest first: those 2 to `refresh_days`
    days old, and every older day of the retention not settled yet (`computed`: when each
    computed day was computed). Days the log purge may have touched (`retention_days` old and
    more) are left out: they are counted from what the deliveries still hold."""
    newest = today - timedelta(days=RAW_DAYS)
    oldest = today - timedelta(days=retention_days - 1)  # the purge's cutoff is in the day before
    recent = today - timedelta(days=refresh_days)
    days = []
    day = newest
    while day >= oldest:
        if day >= recent or day not in computed or not is_settled(day, computed[day]):
            days.append(day)
        day -= ONE_DAY
    return days
