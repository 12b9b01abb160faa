"""The daily agenda's Temporal Schedule, as plain data (the caller builds the Schedule)."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class AgendaScheduleSpec:
    hour: int
    minute: int
    weekdays: tuple[int, ...]  # 0 = Monday ... 6 = Sunday, like Python; empty: never fires
    timezone: str  # IANA name: Temporal evaluates the calendar in it, DST included

    @property
    def temporal_days_of_week(self) -> tuple[int, ...]:
        """`weekdays` renumbered for temporalio's ScheduleCalendarSpec, where 0 is Sunday."""
        return tuple(sorted((day + 1) % 7 for day in self.weekdays))


def agenda_schedule_spec(
    agenda_time: time, timezone: str, exclude_weekends: bool, weekend_days: Collection[int]
) -> AgendaScheduleSpec:
    """Fire at `agenda_time` (seconds ignored) every day, or only on days outside
    `weekend_days` when `exclude_weekends`; `timezone` is checked to be a known zone."""
    ZoneInfo(timezone)  # raises ZoneInfoNotFoundError for an unknown name
    excluded = set(weekend_days) if exclude_weekends else set()
    weekdays = tuple(day for day in range(7) if day not in excluded)
    return AgendaScheduleSpec(agenda_time.hour, agenda_time.minute, weekdays, timezone)
