"""The rules that hold a notification back by the clock: weekend exclusion and do-not-disturb.

Both are wall-clock rules in the recipient's zone. Each either lets an instant pass, moves
the notification to a later instant, or drops it.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.policy.decision import ReasonCode
from domain.policy.weekends import WEEKDAY_NAMES, is_weekend, same_time_next_weekday
from domain.policy.windows import DailyWindow
from domain.preferences import DndAction, Preferences, WeekendAction

# Moves chain (Friday 23:00 -> DND ends Saturday 07:00 -> the weekend moves it to Monday
# 07:00); a handful settles any real configuration. Past this bound the notification simply
# wakes at the last instant reached and is decided again.
_MAX_MOVES = 16


@dataclass(frozen=True)
class Hold:
    code: ReasonCode
    reason: str
    until: datetime | None  # None: drop it


@dataclass(frozen=True)
class TimeRules:
    preferences: Preferences
    zone: ZoneInfo
    weekend_days: frozenset[int]
    is_reminder: bool
    is_agenda: bool

    def settle(self, start: datetime, now: datetime, cause: Hold | None = None) -> Hold | None:
        """Follow the moves from `start` to an instant no rule holds back, so the
        notification wakes once, when it can actually go.

        Returns None when it may go at `start`; a drop when a rule drops it at `now`; else
        a hold until the settled instant, naming `cause` (a rule that already moved it to
        `start`) or else the first rule that moved it. A drop met further ahead is not
        applied: it is decided when the notification wakes there, under the preferences of
        that moment.
        """
        at = start
        for _ in range(_MAX_MOVES):
            holds = [hold for hold in (self._weekend(at), self._dnd(at)) if hold is not None]
            if not holds:
                break
            drop = next((hold for hold in holds if hold.until is None), None)
            if drop is not None:
                if at == now:
                    return drop
                break
            cause = cause or holds[0]
            at = max(hold.until for hold in holds if hold.until is not None)
        if cause is None:
            return None
        return Hold(cause.code, cause.reason, at)

    def _weekend(self, at: datetime) -> Hold | None:
        prefs = self.preferences
        excluded = (self.is_agenda and prefs.exclude_weekends_agenda) or (
            self.is_reminder and prefs.exclude_weekends_reminders
        )
        if not excluded or not is_weekend(at, self.zone, self.weekend_days):
            return None
        weekday = WEEKDAY_NAMES[at.astimezone(self.zone).weekday()]
        day = f"{weekday} is a weekend day for the recipient"
        if self.is_agenda:
            # Monday's own agenda replaces a weekend one; moving it would only repeat it.
            return Hold(ReasonCode.WEEKEND_DROP, f"{day}, who gets no agenda on weekends", None)
        if prefs.weekend_reminder_action == WeekendAction.DROP:
            reason = f"{day}, whose weekend reminders are dropped"
            return Hold(ReasonCode.WEEKEND_DROP, reason, None)
        moved = same_time_next_weekday(at, self.zone, self.weekend_days)
        if moved is None:
            reason = "every day is a weekend day for the recipient: no weekday to move to"
            return Hold(ReasonCode.WEEKEND_DROP, reason, None)
        return Hold(ReasonCode.WEEKEND, f"{day}; reminders move to the next weekday", moved)

    def _dnd(self, at: datetime) -> Hold | None:
        dnd = self.preferences.dnd
        if not dnd.enabled:
            return None
        window = DailyWindow(dnd.start, dnd.end, self.zone)
        if not window.contains(at):
            return None
        where = f"do-not-disturb {dnd.start:%H:%M}-{dnd.end:%H:%M} ({self.zone.key})"
        if dnd.action == DndAction.DROP:
            return Hold(ReasonCode.DND_DROP, f"{where} is on and drops notifications", None)
        return Hold(ReasonCode.DND, f"{where} is on", window.first_instant_outside(at))
