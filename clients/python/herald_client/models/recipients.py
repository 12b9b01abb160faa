"""Recipients and their preferences (api/schemas/notifications.py, domain/preferences.py)."""

import datetime as dt
from datetime import datetime
from typing import Literal

from pydantic import Field

from herald_client.models.base import Input, Output
from herald_client.models.notifications import Channel, ChatAddresses


class RecipientFields(Input):
    """PUT /v1/recipients/{external_id}: the contact details, whole."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    timezone: str = "UTC"  # IANA
    locale: str = "en"
    chat_addresses: ChatAddresses = Field(default_factory=ChatAddresses)


class RecipientPublic(Output):
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    timezone: str
    locale: str
    chat_addresses: dict[str, str]
    created_at: datetime
    updated_at: datetime


DndAction = Literal["defer", "drop"]
DigestFrequency = Literal["immediate", "hourly", "daily", "weekly"]
PreferredMethod = Literal["email", "sms", "both"]
WeekendAction = Literal["move", "drop"]


# Read in answers and given in updates: a field a newer Herald adds is ignored, as in answers.
class DoNotDisturb(Output):
    enabled: bool = False
    start: dt.time = dt.time(22, 0)  # local to the recipient
    end: dt.time = dt.time(7, 0)
    action: DndAction = "defer"


class RateLimit(Output):
    max_count: int
    window_minutes: int


class DigestSetting(Output):
    frequency: DigestFrequency = "immediate"
    time: dt.time = dt.time(9, 0)
    weekday: int = 0  # Monday


class AddressUnsubscribe(Output):
    channel: str
    category: str


class RecipientPreferences(Output):
    """The effective preferences: the tenant's defaults overlaid with the recipient's own."""

    channels: dict[str, bool] = Field(default_factory=dict)
    rules: dict[str, dict[str, bool]] = Field(default_factory=dict)
    muted_event_keys: list[str] = Field(default_factory=list)
    preferred_method: str = "email"
    reminder_minutes_before: list[int] = Field(default_factory=lambda: [1440, 60])
    daily_agenda_time: dt.time = dt.time(8, 0)
    dnd: DoNotDisturb = Field(default_factory=DoNotDisturb)
    exclude_weekends_reminders: bool = False
    weekend_reminder_action: str = "move"
    exclude_weekends_agenda: bool = True
    weekend_days: list[int] | None = None
    max_reminders_per_day: int = 10
    rate_limit: RateLimit | None = None
    digests: dict[str, DigestSetting] = Field(default_factory=dict)
    timezone: str | None = None
    unsubscribed: list[AddressUnsubscribe] = Field(default_factory=list)


class PreferencesUpdate(Input):
    """PUT /v1/recipients/{external_id}/preferences: the recipient's own settings; a field left
    out (None) follows the tenant's default. To change some fields only, patch_preferences."""

    channels: dict[Channel, bool] | None = None
    rules: dict[str, dict[Channel, bool]] | None = None
    muted_event_keys: list[str] | None = None
    preferred_method: PreferredMethod | None = None
    reminder_minutes_before: list[int] | None = None
    daily_agenda_time: dt.time | None = None
    dnd: DoNotDisturb | None = None
    exclude_weekends_reminders: bool | None = None
    weekend_reminder_action: WeekendAction | None = None
    exclude_weekends_agenda: bool | None = None
    weekend_days: list[int] | None = None
    max_reminders_per_day: int | None = None
    rate_limit: RateLimit | None = None
    digests: dict[str, DigestSetting] | None = None
    timezone: str | None = None
