"""Herald's delivery policy: pure functions of preferences, counts and the current instant.

`decide` says, for one notification at one instant, which channels go now, which wait and
until when, which join a digest and which are suppressed and why. The rest is the
wall-clock arithmetic the workflows need around it.
"""

from domain.policy.agenda import AgendaScheduleSpec, agenda_schedule_spec
from domain.policy.decide import decide, requested_channels
from domain.policy.decision import Action, ChannelDecision, Decision, ReasonCode
from domain.policy.digests import digest_flush_time
from domain.policy.inputs import (
    AGENDA_EVENT_KEY,
    DEFAULT_REMINDER_EVENT_KEYS,
    Notification,
    Recipient,
    SendCounts,
    TenantSettings,
)
from domain.policy.reminders import ReminderTime, reminder_times
from domain.policy.wallclock import next_top_of_hour, next_wall_time, resolve_wall_time
from domain.policy.weekends import locale_weekend_days, resolve_weekend_days
from domain.policy.windows import DailyWindow

__all__ = [
    "AGENDA_EVENT_KEY",
    "DEFAULT_REMINDER_EVENT_KEYS",
    "Action",
    "AgendaScheduleSpec",
    "ChannelDecision",
    "DailyWindow",
    "Decision",
    "Notification",
    "ReasonCode",
    "Recipient",
    "ReminderTime",
    "SendCounts",
    "TenantSettings",
    "agenda_schedule_spec",
    "decide",
    "digest_flush_time",
    "locale_weekend_days",
    "next_top_of_hour",
    "next_wall_time",
    "reminder_times",
    "requested_channels",
    "resolve_wall_time",
    "resolve_weekend_days",
]
