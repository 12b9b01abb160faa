"""Wall-clock arithmetic in a recipient's IANA zone, exact across DST changes.

The preferences speak in local wall times ("22:00", "Monday 09:00") while instants are
compared in UTC. `resolve_wall_time` is the one bridge between the two: it turns a local
date and time into the instant it denotes, including on the nights when that wall time does
not exist (spring forward) or happens twice (fall back). Everything else is built on it, so
no code here ever adds hours to a local time across a change of offset.
"""

import math
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EVERY_WEEKDAY = frozenset(range(7))


def require_aware(value: datetime, name: str) -> datetime:
    """`value` in UTC; a naive datetime is refused because its instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def resolve_wall_time(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which clocks in `zone` show `wall` on `day`.

    A wall time skipped by a spring-forward gap resolves to the first valid instant after it
    (the moment the clocks jump); a wall time repeated by a fall-back resolves to its first
    occurrence (fold=0).
    """
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # Inside a gap, fold=0 reads the wall time with the offset from before the jump (an
    # instant after it) and fold=1 with the offset from after (an instant before it).
    return _transition_between(local.replace(fold=1).astimezone(UTC), instant, zone)


def _transition_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The instant the offset of `zone` changes, given one instant on each side of it.

    zoneinfo does not expose its transitions, so bisect whole seconds (tzdata transitions
    fall on whole seconds; a gap is at most a day, so about 17 steps).
    """
    low = math.floor(before.timestamp())
    high = math.ceil(after.timestamp())
    offset_after = after.astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def next_wall_time(
    after: datetime, wall: time, zone: ZoneInfo, weekdays: Collection[int] = EVERY_WEEKDAY
) -> datetime:
    """The first instant at or after `after` at which `zone` shows `wall` on one of
    `weekdays` (0 = Monday).

    At or after, not strictly after: a caller that wakes exactly at a boundary gets that
    boundary back instead of being pushed a whole period further.
    """
    if not weekdays:
        raise ValueError("next_wall_time needs at least one weekday")
    # Start the day before: a wall time late on that day may resolve, through a gap at
    # midnight, to an instant on the local day of `after`. Nine days reach the same weekday
    # a week later.
    first_day = after.astimezone(zone).date() - timedelta(days=1)
    for days in range(9):
        day = first_day + timedelta(days=days)
        if day.weekday() in weekdays:
            instant = resolve_wall_time(day, wall, zone)
            if instant >= after:
                return instant
    raise AssertionError("unreachable: every weekday occurs within nine days")


def next_top_of_hour(after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at or after `after` at which clocks in `zone` show a whole hour.

    Steps through UTC minutes instead of adding an hour to the local time, which keeps it
    right in zones with a non-hour offset (Asia/Kolkata, where local hours begin at :30 UTC)
    and on nights when the offset changes by 30 minutes (Australia/Lord_Howe).
    """
    after = require_aware(after, "after")
    candidate = after.replace(second=0, microsecond=0)
    if candidate < after:
        candidate += timedelta(minutes=1)
    while candidate.astimezone(zone).minute != 0:
        candidate += timedelta(minutes=1)
    return candidate
