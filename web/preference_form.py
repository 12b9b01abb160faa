"""The preferences form of a recipient's page: every field of the preferences document as form
controls, and back.

A form sends text; the document wants booleans, numbers, lists and objects. `document` turns
the submitted form into the whole preferences document as the operator left it, typing only
what is unambiguous (digits become numbers, a ticked box true): anything else is passed on as
written, so the validation that refuses it is the API's own, in the API's words. The page saves
only what differs from the effective preferences (domain.merge_patch.patch_between), so
settings the operator did not touch keep following the tenant's defaults.

Field names are the document's dotted paths (`dnd.start`), so a refusal naming `dnd.start`
lands beside that field (`placed`). Rows of an object keyed by the tenant's own keys (rules and
digests) are numbered instead (`rules-0-key`, `rules-0-email`), since a key holds dots itself.
"""

import re
from collections.abc import Iterable
from typing import Any

from domain.preferences import DigestFrequency, DndAction, PreferredMethod, WeekendAction
from domain.types import Channel
from web.forms import FieldErrors

CHANNELS = [channel.value for channel in Channel]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
METHODS = [m.value for m in PreferredMethod]
DND_ACTIONS = [a.value for a in DndAction]
WEEKEND_ACTIONS = [a.value for a in WeekendAction]
FREQUENCIES = [f.value for f in DigestFrequency]
# A rule's switch for one channel: unset (the channel's master switch decides), on or off.
RULE_SWITCHES = {"": None, "on": True, "off": False}

_ROW = re.compile(r"^(rules|digests)-(\d+)-key$")
_NUMBER = re.compile(r"^[+-]?\d{1,12}$")
_HH_MM = re.compile(r"^\d\d:\d\d$")


def document(values: dict[str, str]) -> dict[str, Any]:
    """The submitted form as a preferences document (every field, as the operator left it)."""

    def ticked(name: str) -> bool:
        return name in values

    def text(name: str) -> str:
        return values.get(name, "").strip()

    def time(name: str) -> str:
        """A time field's HH:MM as the document writes times (HH:MM:SS), so an unchanged
        time compares equal to the stored one."""
        written = text(name)
        return f"{written}:00" if _HH_MM.match(written) else written

    limited = ticked("rate_limit.on")
    return {
        "channels": {channel: ticked(f"channels.{channel}") for channel in CHANNELS},
        "rules": {
            key: switches
            for key, row in _rows(values, "rules")
            if (switches := _rule_switches(values, row))
        },
        "muted_event_keys": [k for k in re.split(r"[\s,]+", text("muted_event_keys")) if k],
        "preferred_method": text("preferred_method"),
        "reminder_minutes_before": [
            _number(n) for n in re.split(r"[\s,]+", text("reminder_minutes_before")) if n
        ],
        "daily_agenda_time": time("daily_agenda_time"),
        "dnd": {
            "enabled": ticked("dnd.enabled"),
            "start": time("dnd.start"),
            "end": time("dnd.end"),
            "action": text("dnd.action"),
        },
        "exclude_weekends_reminders": ticked("exclude_weekends_reminders"),
        "weekend_reminder_action": text("weekend_reminder_action"),
        "exclude_weekends_agenda": ticked("exclude_weekends_agenda"),
        "weekend_days": (
            None
            if text("weekend_days_from") == "locale"
            else [day for day in range(7) if ticked(f"weekend_days.{day}")]
        ),
        "max_reminders_per_day": _number(text("max_reminders_per_day")),
        "rate_limit": (
            {
                "max_count": _number(text("rate_limit.max_count")),
                "window_minutes": _number(text("rate_limit.window_minutes")),
            }
            if limited
            else None
        ),
        "digests": {
            key: {
                "frequency": text(f"digests-{row}-frequency"),
                "time": time(f"digests-{row}-time"),
                "weekday": _number(text(f"digests-{row}-weekday")),
            }
            for key, row in _rows(values, "digests")
            if not ticked(f"digests-{row}-remove")
        },
        "timezone": text("timezone") or None,
    }


def _rows(values: dict[str, str], group: str) -> list[tuple[str, str]]:
    """(key, row number) of each filled row of `group`, in row order."""
    rows = []
    for name, value in values.items():
        found = _ROW.match(name)
        if found and found.group(1) == group and value.strip():
            rows.append((int(found.group(2)), value.strip()))
    return [(key, str(row)) for row, key in sorted(rows)]


def _rule_switches(values: dict[str, str], row: str) -> dict[str, Any]:
    """A rule's switches; a setting the form does not offer is passed on to be refused."""
    switches = {}
    for channel in CHANNELS:
        chosen = values.get(f"rules-{row}-{channel}", "")
        if chosen:
            switches[channel] = RULE_SWITCHES.get(chosen, chosen)
    return switches


def _number(value: str) -> Any:
    """Digits as a number; anything else as written (validation names what is wrong)."""
    return int(value) if _NUMBER.match(value) else value


def anchors(prefs: dict[str, Any]) -> list[str]:
    """Where the form shows a refusal: each field's dotted path, and each rule's and digest's
    row."""
    return [
        *prefs,
        "dnd.enabled",
        "dnd.start",
        "dnd.end",
        "dnd.action",
        "rate_limit.max_count",
        "rate_limit.window_minutes",
        *(f"rules.{key}" for key in prefs.get("rules") or {}),
        *(f"digests.{key}" for key in prefs.get("digests") or {}),
    ]


def placed(errors: FieldErrors, places: Iterable[str]) -> FieldErrors:
    """Each refusal at the most specific place that holds its field (`dnd.start` beside that
    field, `reminder_minutes_before.0` beside the list); one no field holds goes to the top
    of the form, its field named."""
    places = sorted(places, key=len, reverse=True)
    shown: FieldErrors = {}
    for field, problem in errors.items():
        place = next((p for p in places if field == p or field.startswith(f"{p}.")), None)
        if place is None:
            shown.setdefault("", f"{field}: {problem}" if field else problem)
        else:
            shown.setdefault(place, problem)
    return shown
