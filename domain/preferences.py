"""A recipient's notification preferences: the data and its validation rules.

Tenants hold defaults; a recipient stores only the fields they changed, and the
effective preferences are the defaults overlaid with those overrides, so a later
change to a tenant default reaches every recipient who never touched that field.
"""

import datetime as dt
from datetime import time
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.types import EVENT_KEY_PATTERN, Channel


class PreferredMethod(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"


class DndAction(StrEnum):
    DEFER = "defer"
    DROP = "drop"


class WeekendAction(StrEnum):
    MOVE = "move"  # to the next weekday, same local time
    DROP = "drop"


class DigestFrequency(StrEnum):
    IMMEDIATE = "immediate"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DoNotDisturb(_Strict):
    enabled: bool = False
    start: time = time(22, 0)
    end: time = time(7, 0)
    action: DndAction = DndAction.DEFER

    @model_validator(mode="after")
    def _non_zero_length(self) -> "DoNotDisturb":
        if self.start == self.end:
            raise ValueError("dnd.start and dnd.end must differ (a window of zero length)")
        return self


class RateLimit(_Strict):
    max_count: Annotated[int, Field(ge=1, le=10_000)]
    window_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]


class DigestSetting(_Strict):
    frequency: DigestFrequency = DigestFrequency.IMMEDIATE
    time: dt.time = dt.time(9, 0)  # daily and weekly digests, in the recipient's zone
    weekday: Annotated[int, Field(ge=0, le=6)] = 0  # weekly digests; Monday is 0


ChannelSwitches = dict[Channel, bool]


def _check_key(key: str, what: str) -> str:
    if not EVENT_KEY_PATTERN.match(key):
        raise ValueError(f"{what} {key!r} is not a dotted key like 'booking.reminder'")
    return key


class Preferences(_Strict):
    """The full, effective preferences of one recipient."""

    channels: ChannelSwitches = Field(
        default_factory=lambda: {c: True for c in Channel},
        description="Master switch per channel.",
    )
    rules: dict[str, ChannelSwitches] = Field(
        default_factory=dict,
        description="Per category ('booking') or event key ('booking.reminder') channel "
        "switches; an event key's rule wins over its category's.",
    )
    muted_event_keys: list[str] = Field(default_factory=list)
    preferred_method: PreferredMethod = PreferredMethod.EMAIL
    reminder_minutes_before: Annotated[
        list[Annotated[int, Field(gt=0, le=60 * 24 * 60)]], Field(min_length=1, max_length=10)
    ] = Field(default_factory=lambda: [1440, 60])
    daily_agenda_time: time = time(8, 0)
    dnd: DoNotDisturb = Field(default_factory=DoNotDisturb)
    exclude_weekends_reminders: bool = False
    weekend_reminder_action: WeekendAction = WeekendAction.MOVE
    exclude_weekends_agenda: bool = True
    weekend_days: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(
        default=None, description="0=Monday..6=Sunday; derived from the locale when unset."
    )
    max_reminders_per_day: Annotated[int, Field(ge=1, le=50)] = 10
    rate_limit: RateLimit | None = None
    digests: dict[str, DigestSetting] = Field(
        default_factory=dict, description="Digest setting per category."
    )
    timezone: str | None = Field(default=None, description="Overrides the recipient's timezone.")

    @field_validator("rules")
    @classmethod
    def _rule_keys(cls, value: dict[str, ChannelSwitches]) -> dict[str, ChannelSwitches]:
        for key in value:
            _check_key(key, "rule key")
        return value

    @field_validator("muted_event_keys")
    @classmethod
    def _muted_keys(cls, value: list[str]) -> list[str]:
        return [_check_key(key, "event key") for key in value]

    @field_validator("digests")
    @classmethod
    def _digest_keys(cls, value: dict[str, DigestSetting]) -> dict[str, DigestSetting]:
        for key in value:
            _check_key(key, "digest category")
        return value

    @field_validator("weekend_days")
    @classmethod
    def _some_weekdays(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) == 7:
            raise ValueError("cannot make every day a weekend day")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _zones():
            raise ValueError(f"unknown IANA timezone {value!r}")
        return value


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def is_known_timezone(name: str) -> bool:
    return name in _zones()


def merge_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overlay `overrides` on `base`, recursing into objects (JSON merge patch without deletes)."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged


def effective_preferences(
    defaults: dict[str, Any] | None, overrides: dict[str, Any] | None
) -> Preferences:
    return Preferences.model_validate(merge_overrides(defaults or {}, overrides or {}))
