"""The windows sends are counted in: the recipient's local day, and fixed rate-limit windows."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.policy.wallclock import resolve_wall_time

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def local_day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """The instant the recipient's current day began, in UTC (its midnight may not exist: DST)."""
    return resolve_wall_time(now.astimezone(zone).date(), time(0, 0), zone).astimezone(UTC)


def rate_window(now: datetime, window_minutes: int) -> tuple[datetime, datetime]:
    """The fixed window containing `now`: [start, end)."""
    size = timedelta(minutes=window_minutes)
    start = _EPOCH + ((now - _EPOCH) // size) * size
    return start, start + size
