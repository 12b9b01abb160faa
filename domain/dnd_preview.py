"""What a do-not-disturb window blocks on one day, as someone in a given zone sees it: the
preview the dashboard draws as a day strip, in the recipient's zone and in the operator's.

The window is the recipient's (`DailyWindow`: wall times in the recipient's zone, resolved to
instants exactly as planning resolves them, DST included). The day is a calendar day in the
viewer's zone, from its local midnight to the next one, so it lasts 23 or 25 hours on the days
the clocks change. Everything is computed on instants and only then written as wall times: a
window seen from another zone, or across a change of offset, shows the hours it really blocks.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.policy.wallclock import resolve_wall_time
from domain.policy.windows import DailyWindow

HOUR = timedelta(hours=1)
DASH = "\N{EN DASH}"  # between a span's two times: read as "to"


@dataclass(frozen=True)
class Span:
    """[start, end) in UTC."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class Hour:
    """One hour of the strip: [start, end) in UTC (the last may be shorter where a zone's day is
    not a whole number of hours), and how many of its minutes the window blocks."""

    start: datetime
    end: datetime
    blocked_minutes: int

    @property
    def state(self) -> str:
        """blocked, partly or free."""
        if self.blocked_minutes == 0:
            return "free"
        whole = int((self.end - self.start).total_seconds() // 60)
        return "blocked" if self.blocked_minutes >= whole else "partly"


@dataclass(frozen=True)
class DayStrip:
    """The blocked spans of one local day in `zone`, and its real hours (23, 24 or 25)."""

    day: date
    zone: ZoneInfo
    start: datetime  # the day's local midnight, in UTC
    end: datetime  # the next local midnight, in UTC
    blocked: tuple[Span, ...]
    hours: tuple[Hour, ...]

    def wall(self, instant: datetime) -> str:
        """`instant` as this day's clocks show it: HH:MM, 24:00 at the day's end, and the zone's
        abbreviation when the clocks show that time twice (the hour repeated in autumn)."""
        if instant >= self.end:
            return "24:00"
        return wall_time(instant, self.zone)

    def hour_label(self, hour: Hour) -> str:
        return f"{self.wall(hour.start)}{DASH}{self.wall(hour.end)}"

    def summary(self) -> str:
        """`Blocked 00:00-07:00 and 22:00-24:00`, or `Nothing blocked`."""
        if not self.blocked:
            return "Nothing blocked"
        spans = [f"{self.wall(span.start)}{DASH}{self.wall(span.end)}" for span in self.blocked]
        listed = spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]
        return f"Blocked {listed}"

    @property
    def hours_in_day(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def wall_time(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    text = local.strftime("%H:%M")
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():  # this wall time happens twice today
        text += f" {local.tzname()}"
    return text


def day_strip(window: DailyWindow, day: date, zone: ZoneInfo) -> DayStrip:
    """What `window` blocks during the local `day` in `zone` (midnight to midnight)."""
    start = resolve_wall_time(day, time(0, 0), zone)
    end = resolve_wall_time(day + timedelta(days=1), time(0, 0), zone)
    blocked = _merged(_occurrences_between(window, start, end), start, end)
    hours = []
    at = start
    while at < end:
        until = min(at + HOUR, end)
        overlap = sum((_overlap(span, at, until) for span in blocked), timedelta())
        hours.append(Hour(at, until, int(overlap.total_seconds() // 60)))
        at = until
    return DayStrip(day, zone, start, end, tuple(blocked), tuple(hours))


@dataclass(frozen=True)
class DndPreview:
    """A window's occurrence that starts on the recipient's `day`, written in their zone and in
    the operator's, and that day's strip in each zone."""

    recipient: DayStrip
    operator: DayStrip
    occurrence: Span

    def summary(self) -> str:
        """`Blocked 22:00-07:00 Europe/Berlin (your time 21:00-06:00 Europe/London)`."""
        theirs = self._written(self.recipient.zone)
        yours = self._written(self.operator.zone)
        return (
            f"Blocked {theirs} {self.recipient.zone.key} "
            f"(your time {yours} {self.operator.zone.key})"
        )

    def _written(self, zone: ZoneInfo) -> str:
        start, end = self.occurrence.start, self.occurrence.end
        return f"{wall_time(start, zone)}{DASH}{wall_time(end, zone)}"


def dnd_preview(
    start: time, end: time, recipient_zone: ZoneInfo, operator_zone: ZoneInfo, day: date
) -> DndPreview:
    """The window `start`-`end` of the recipient's zone on the recipient's `day`, and `day` as a
    strip in both zones."""
    window = DailyWindow(start, end, recipient_zone)
    begin, until = window.occurrence(day)
    return DndPreview(
        recipient=day_strip(window, day, recipient_zone),
        operator=day_strip(window, day, operator_zone),
        occurrence=Span(begin, until),
    )


def _occurrences_between(window: DailyWindow, start: datetime, end: datetime) -> list[Span]:
    """Every occurrence of the window that can overlap [start, end): those starting on the
    window zone's days from the one before `start` to the one of `end`."""
    first = start.astimezone(window.zone).date() - timedelta(days=1)
    last = end.astimezone(window.zone).date()
    spans = []
    day = first
    while day <= last:
        begin, until = window.occurrence(day)
        spans.append(Span(begin, until))
        day += timedelta(days=1)
    return spans


def _merged(spans: list[Span], start: datetime, end: datetime) -> list[Span]:
    """The spans clipped to [start, end), overlapping or touching ones joined, in order."""
    clipped = sorted(
        (
            Span(max(span.start, start), min(span.end, end))
            for span in spans
            if span.start < end and span.end > start
        ),
        key=lambda span: span.start,
    )
    merged: list[Span] = []
    for span in clipped:
        if merged and span.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged


def _overlap(span: Span, start: datetime, end: datetime) -> timedelta:
    return max(timedelta(), min(span.end, end) - max(span.start, start))
