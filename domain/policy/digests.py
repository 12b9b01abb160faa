"""When a digest is flushed: the next boundary of its frequency in the recipient's zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.policy.wallclock import next_top_of_hour, next_wall_time
from domain.preferences import DigestFrequency, DigestSetting


def digest_flush_time(setting: DigestSetting, now: datetime, zone: ZoneInfo) -> datetime:
    """The first boundary at or after `now`: the top of the hour (hourly), the digest time
    (daily), or the digest weekday at the digest time (weekly).

    At or after, so a notification re-evaluated exactly at its flush time is told to go
    into the digest that flushes now, not the next one.
    """
    match setting.frequency:
        case DigestFrequency.HOURLY:
            return next_top_of_hour(now, zone)
        case DigestFrequency.DAILY:
            return next_wall_time(now, setting.time, zone)
        case DigestFrequency.WEEKLY:
            return next_wall_time(now, setting.time, zone, weekdays={setting.weekday})
    raise ValueError(f"{setting.frequency} digests have no flush time")
