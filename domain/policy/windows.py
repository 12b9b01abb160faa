"""A daily wall-clock window such as do-not-disturb 22:00-07:00, evaluated on real instants.

Each local day `d` has one occurrence of the window: from `start` on `d` to `end` on `d`,
or to `end` on the next day when the window crosses midnight (`end <= start`). Both ends are
resolved to instants in the zone, so the occurrence across a spring-forward night is an hour
shorter and the one across a fall-back night an hour longer, exactly as the clocks say.
The start is inclusive and the end exclusive.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.policy.wallclock import require_aware, resolve_wall_time


@dataclass(frozen=True)
class DailyWindow:
    start: time
    end: time
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.start == self.end:
            # It would read as a 24-hour window that never lets anything out.
            raise ValueError("a daily window needs start != end")

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    def occurrence(self, day: date) -> tuple[datetime, datetime]:
        """The [begin, end) instants, in UTC, of the occurrence that starts on local `day`."""
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return resolve_wall_time(day, self.start, self.zone), resolve_wall_time(
            end_day, self.end, self.zone
        )

    def occurrence_containing(self, instant: datetime) -> tuple[datetime, datetime] | None:
        instant = require_aware(instant, "instant")
        local_day = instant.astimezone(self.zone).date()
        # An instant can only fall in the occurrence of its own local day or, for a window
        # that crosses midnight (or whose end a gap pushed past midnight), the day before.
        for day in (local_day - timedelta(days=1), local_day):
            begin, end = self.occurrence(day)
            if begin <= instant < end:
                return begin, end
        return None

    def contains(self, instant: datetime) -> bool:
        return self.occurrence_containing(instant) is not None

    def first_instant_outside(self, instant: datetime) -> datetime:
        """`instant` itself if it is outside the window, else the end of its occurrence.

        Loops because a DST gap can make one occurrence end exactly where the next begins
        (e.g. 02:30-02:00 on a night when 02:00-03:00 does not exist); each step moves
        strictly forward.
        """
        instant = require_aware(instant, "instant")
        while (occurrence := self.occurrence_containing(instant)) is not None:
            instant = occurrence[1]
        return instant
