"""Preferences as older versions (or a since-changed default) may have stored them: every kind
of bad stored state, for the unit tests of reading them and the end-to-end ones of planning."""

# Each case stores this opt-out beside the bad setting: it must still hold.
OPTED_OUT = {"rules": {"booking": {"email": False}}}

# name: (tenant defaults, recipient overrides, the setting that is ignored)
BAD_STORED_STATE = {
    "zero-length DND once merged": (
        {"dnd": {"enabled": True, "start": "22:00", "end": "07:00"}},
        {"dnd": {"end": "22:00"}, **OPTED_OUT},
        "overrides.dnd",
    ),
    "start == end in the override alone": (
        {},
        {"dnd": {"enabled": True, "start": "09:00", "end": "09:00"}, **OPTED_OUT},
        "overrides.dnd",
    ),
    "unknown channel name": (
        {},
        {"channels": {"fax": False, "sms": False}, **OPTED_OUT},
        "overrides.channels.fax",
    ),
    "unknown channel inside a rule": (
        {},
        {"rules": {"booking": {"email": False, "pager": True}}},
        "overrides.rules.booking.pager",
    ),
    "category that is not a dotted key": (
        {},
        {"rules": {"Booking Stuff": {"email": False}, "booking": {"email": False}}},
        "overrides.rules.Booking Stuff",
    ),
    "unknown digest frequency": (
        {},
        {"digests": {"booking": {"frequency": "monthly"}}, **OPTED_OUT},
        "overrides.digests.booking.frequency",
    ),
    "muted key that is not an event key": (
        {},
        {"muted_event_keys": ["Not A Key", "marketing.promo"], **OPTED_OUT},
        "overrides.muted_event_keys.0",
    ),
    "daily cap out of range": (
        {},
        {"max_reminders_per_day": 0, **OPTED_OUT},
        "overrides.max_reminders_per_day",
    ),
    "rate limit out of range": (
        {},
        {"rate_limit": {"max_count": 0, "window_minutes": 60}, **OPTED_OUT},
        "overrides.rate_limit.max_count",
    ),
    "rate limit missing a field": (
        {},
        {"rate_limit": {"max_count": 5}, **OPTED_OUT},
        "overrides.rate_limit.window_minutes",
    ),
    "reminder offset out of range": (
        {},
        {"reminder_minutes_before": [1440, -5], **OPTED_OUT},
        "overrides.reminder_minutes_before.1",
    ),
    "unknown time zone": (
        {},
        {"timezone": "Mars/Olympus_Mons", **OPTED_OUT},
        "overrides.timezone",
    ),
    "every day a weekend day": (
        {},
        {"weekend_days": [0, 1, 2, 3, 4, 5, 6], **OPTED_OUT},
        "overrides.weekend_days",
    ),
    "weekday out of range": (
        {},
        {"weekend_days": [5, 9], **OPTED_OUT},
        "overrides.weekend_days.1",
    ),
    "a time stored as words": (
        {},
        {"daily_agenda_time": "half past eight", **OPTED_OUT},
        "overrides.daily_agenda_time",
    ),
    "an object stored as a string": (
        {},
        {"dnd": "off", **OPTED_OUT},
        "overrides.dnd",
    ),
    "switches stored as a list": (
        {},
        {"channels": ["email"], **OPTED_OUT},
        "overrides.channels",
    ),
    "a boolean stored as a word no one reads as one": (
        {},
        {"exclude_weekends_agenda": "sometimes", **OPTED_OUT},
        "overrides.exclude_weekends_agenda",
    ),
    "a setting this version does not know": (
        {},
        {"vacation_mode": True, **OPTED_OUT},
        "overrides.vacation_mode",
    ),
    "a method since removed": (
        {},
        {"preferred_method": "fax", **OPTED_OUT},
        "overrides.preferred_method",
    ),
}
