"""A recipient's notification preferences: the data and its validation rules.

Tenants hold defaults; a recipient stores only the fields they changed, and the
effective preferences are the defaults overlaid with those overrides, so a later
change to a tenant default reaches every recipient who never touched that field.
"""

import datetime as dt
import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from domain.document_repair import repaired
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


LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _local_time_text(value: Any) -> Any:
    """A wall-clock time is written HH:MM[:SS]: not a number of seconds, not with an offset
    (pydantic would take both; the documented schema says neither)."""
    if isinstance(value, time) or (isinstance(value, str) and re.match(LOCAL_TIME_PATTERN, value)):
        return value
    raise ValueError("must be a local time written HH:MM or HH:MM:SS, e.g. 22:00")


# JSON Schema's "time" format requires an offset (RFC 3339); these times are local to the
# recipient's timezone, so the schema gives their pattern instead.
LocalTime = Annotated[
    time,
    BeforeValidator(_local_time_text),
    WithJsonSchema(
        {"type": "string", "pattern": LOCAL_TIME_PATTERN, "examples": ["22:00"]},
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DoNotDisturb(_Strict):
    enabled: StrictBool = False
    start: LocalTime = time(22, 0)
    end: LocalTime = time(7, 0)
    action: DndAction = DndAction.DEFER

    @model_validator(mode="after")
    def _non_zero_length(self) -> "DoNotDisturb":
        if self.start == self.end:
            raise ValueError("dnd.start and dnd.end must differ (a window of zero length)")
        return self


class RateLimit(_Strict):
    max_count: Annotated[StrictInt, Field(ge=1, le=10_000)]
    window_minutes: Annotated[StrictInt, Field(ge=1, le=7 * 24 * 60)]


class DigestSetting(_Strict):
    frequency: DigestFrequency = DigestFrequency.IMMEDIATE
    time: LocalTime = dt.time(9, 0)  # daily and weekly digests, in the recipient's zone
    weekday: Annotated[StrictInt, Field(ge=0, le=6)] = 0  # weekly digests; Monday is 0


ChannelSwitches = dict[Channel, StrictBool]


def _dotted_key(what: str) -> AfterValidator:
    """Checks one key, so a bad key is refused (or, stored, ignored) alone, not with its
    siblings."""

    def check(key: str) -> str:
        if not EVENT_KEY_PATTERN.match(key):
            raise ValueError(f"{what} {key!r} is not a dotted key like 'booking.reminder'")
        return key

    return AfterValidator(check)


# The schema states the pattern the check enforces, so a generated client (or a fuzzer) knows it.
_DOTTED_KEY: JsonDict = {"type": "string", "pattern": EVENT_KEY_PATTERN.pattern}
_DOTTED_KEYS: JsonDict = {"propertyNames": _DOTTED_KEY}  # for an object keyed by them
RuleKey = Annotated[str, _dotted_key("rule key")]
MutedKey = Annotated[str, _dotted_key("event key"), WithJsonSchema(_DOTTED_KEY)]
DigestCategory = Annotated[str, _dotted_key("digest category")]


class Preferences(_Strict):
    """The full, effective preferences of one recipient."""

    channels: ChannelSwitches = Field(
        default_factory=lambda: {c: True for c in Channel},
        description="Master switch per channel.",
    )
    rules: dict[RuleKey, ChannelSwitches] = Field(
        default_factory=dict,
        description="Per category ('booking') or event key ('booking.reminder') channel "
        "switches; an event key's rule wins over its category's.",
        json_schema_extra=_DOTTED_KEYS,
    )
    muted_event_keys: list[MutedKey] = Field(default_factory=list)
    preferred_method: PreferredMethod = PreferredMethod.EMAIL
    reminder_minutes_before: Annotated[
        list[Annotated[StrictInt, Field(gt=0, le=60 * 24 * 60)]], Field(min_length=1, max_length=10)
    ] = Field(default_factory=lambda: [1440, 60])
    daily_agenda_time: LocalTime = time(8, 0)
    dnd: DoNotDisturb = Field(default_factory=DoNotDisturb)
    exclude_weekends_reminders: StrictBool = False
    weekend_reminder_action: WeekendAction = WeekendAction.MOVE
    exclude_weekends_agenda: StrictBool = True
    weekend_days: list[Annotated[StrictInt, Field(ge=0, le=6)]] | None = Field(
        default=None, description="0=Monday..6=Sunday; derived from the locale when unset."
    )
    max_reminders_per_day: Annotated[StrictInt, Field(ge=1, le=50)] = 10
    rate_limit: RateLimit | None = None
    digests: dict[DigestCategory, DigestSetting] = Field(
        default_factory=dict,
        description="Digest setting per category.",
        json_schema_extra=_DOTTED_KEYS,
    )
    timezone: str | None = Field(default=None, description="Overrides the recipient's timezone.")

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


def as_document(stored: Any) -> dict[str, Any]:
    """A stored preferences document as a JSON object; anything else (an older version's
    list or string, SQL NULL) holds no settings."""
    return stored if isinstance(stored, dict) else {}


def merge_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overlay `overrides` on `base`, recursing into objects. Unlike a merge patch, a `null`
    is a value here: a recipient's stored `"rate_limit": null` means "no rate limit"."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Resolved:
    """A recipient's effective preferences, and the stored settings that had to be ignored
    to make them valid (dotted paths, `defaults.` or `overrides.` first)."""

    preferences: Preferences
    ignored: tuple[str, ...] = ()


_HERALD_DEFAULTS = Preferences().model_dump(mode="json")


def resolve_preferences(defaults: Any, overrides: Any) -> Resolved:
    """The tenant's defaults overlaid with the recipient's overrides. Total: whatever is
    stored, the answer is valid preferences. A stored default at fault gives way to Herald's
    own; a stored override at fault gives way to the tenant's default."""
    try:  # the common case: what is stored is valid, and one validation says so
        return Resolved(
            Preferences.model_validate(
                merge_overrides(as_document(defaults), as_document(overrides))
            )
        )
    except ValidationError:
        pass
    base, bad_defaults = repaired(Preferences, defaults or {}, _HERALD_DEFAULTS)
    effective, bad_overrides = repaired(
        Preferences,
        merge_overrides(base.model_dump(mode="json"), as_document(overrides)),
        base.model_dump(mode="json"),
    )
    if overrides is not None and not isinstance(overrides, dict):
        bad_overrides = [*bad_overrides, "(document)"]
    return Resolved(
        effective,
        tuple(f"defaults.{p}" for p in bad_defaults)
        + tuple(f"overrides.{p}" for p in bad_overrides),
    )


def effective_preferences(defaults: Any, overrides: Any) -> Preferences:
    """The effective preferences planning and the API use; never raises (resolve_preferences)."""
    return resolve_preferences(defaults, overrides).preferences


def defaults_document(defaults: Any) -> dict[str, Any]:
    """The tenant's stored defaults as one whole, valid preferences document (repaired where
    at fault), for checking overrides over (`check_overrides`)."""
    return repaired(Preferences, defaults or {}, _HERALD_DEFAULTS)[0].model_dump(mode="json")


def check_overrides(defaults: dict[str, Any], overrides: dict[str, Any]) -> Preferences:
    """The effective preferences `overrides` give over `defaults` (a `defaults_document`);
    raises ValidationError, naming the override's field, when they would not be valid."""
    return Preferences.model_validate(merge_overrides(defaults, overrides))
