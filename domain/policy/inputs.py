"""Everything the policy needs to know besides the current instant, as plain values.

The caller reads these from the database (preferences, addresses, send counts, tenant
settings) inside an activity; the policy itself never does I/O.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.policy.weekends import resolve_weekend_days
from domain.preferences import Preferences
from domain.types import Channel, Priority

DEFAULT_REMINDER_EVENT_KEYS = frozenset({"booking.reminder"})
AGENDA_EVENT_KEY = "daily_agenda"


@dataclass(frozen=True)
class Notification:
    event_key: str
    priority: Priority = Priority.NORMAL
    # Channel names such as "email" (repeats ignored); None or empty: the preferred method.
    channels: Sequence[str] | None = None


@dataclass(frozen=True)
class Recipient:
    preferences: Preferences  # the effective preferences (tenant defaults + overrides)
    addresses: Collection[Channel]  # channels the recipient has an address for
    timezone: str = "UTC"  # the recipient's zone; `preferences.timezone` overrides it
    locale: str | None = None  # BCP 47 (`ar-SA`), for the weekend when preferences set none
    # (channel, category) pairs the recipient's address on that channel unsubscribed from,
    # through this recipient or another with the same address: never sent, even if urgent.
    unsubscribed: Collection[tuple[str, str]] = ()

    @property
    def zone(self) -> ZoneInfo:
        """The preferences' zone, else the recipient's own. A stored name that is no zone
        (an older version stored it, or the tz database dropped it) counts as UTC: planning
        must answer whatever is stored."""
        try:
            return ZoneInfo(self.preferences.timezone or self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def weekend_days(self) -> frozenset[int]:
        return resolve_weekend_days(self.preferences.weekend_days, self.locale)


@dataclass(frozen=True)
class SendCounts:
    """What was already sent to the recipient, counted by the caller at `now`."""

    reminders_sent_today: int = 0  # within the recipient's local day of `now`
    sent_in_rate_window: int = 0  # within the last `rate_limit.window_minutes`
    # When the oldest send counted in the window leaves it; without it a rate-limited
    # notification is dropped, since nothing says when it could go.
    rate_window_frees_at: datetime | None = None


@dataclass(frozen=True)
class TenantSettings:
    reminder_event_keys: Collection[str] = DEFAULT_REMINDER_EVENT_KEYS
    # Event key -> whether an urgent notification of it bypasses do-not-disturb, weekend
    # deferral, digests and the rate limit. Unlisted keys bypass.
    urgent_bypass: Mapping[str, bool] = field(default_factory=dict)
    # How long a failing send of this tenant's is retried; None: Herald's default (an hour).
    retry_window_minutes: int | None = None

    def urgent_bypasses(self, event_key: str) -> bool:
        return self.urgent_bypass.get(event_key, True)


NOTHING_SENT = SendCounts()
DEFAULT_TENANT_SETTINGS = TenantSettings()
