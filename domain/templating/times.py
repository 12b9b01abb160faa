"""Booking times as people read them: in their own time zone and language."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, get_datetime_format
from babel.lists import format_list
from babel.units import format_unit

FALLBACK_LOCALE = "en"
# CLDR puts narrow/no-break spaces in times ("10:00\u202fAM"); plain spaces keep SMS in GSM-7.
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


def booking_time_variables(
    start: datetime, end: datetime, organizer_tz: str, invitee_tz: str, locale: str
) -> dict[str, str]:
    """start_time/end_time in the organizer's zone, *_invitee in the invitee's, and duration.

    Naive datetimes are taken as UTC. Times read like "Monday, June 2, 2025, 10:00 AM EDT",
    localised for `locale` (e.g. "pt-BR": "segunda-feira, 2 de junho de 2025 10:00 BRT").
    """
    babel_locale = _babel_locale(locale)
    organizer_zone, invitee_zone = _zone(organizer_tz), _zone(invitee_tz)
    start, end = _aware(start), _aware(end)
    return {
        "start_time": format_booking_time(start, organizer_zone, babel_locale),
        "end_time": format_booking_time(end, organizer_zone, babel_locale),
        "start_time_invitee": format_booking_time(start, invitee_zone, babel_locale),
        "end_time_invitee": format_booking_time(end, invitee_zone, babel_locale),
        "duration": format_duration(end - start, babel_locale),
    }


def format_booking_time(moment: datetime, zone: ZoneInfo, locale: Locale) -> str:
    """Full date, short time and zone abbreviation, joined the way the locale joins them."""
    date = format_date(moment.astimezone(zone), "full", locale=locale)
    time = format_time(moment, "short", tzinfo=zone, locale=locale)
    abbreviation = format_datetime(moment, "z", tzinfo=zone, locale=locale)
    # Babel annotates a DateTimePattern, but locales hold plain str patterns such as "{1}, {0}".
    pattern = str(get_datetime_format("full", locale=locale)).replace("'", "")
    text = pattern.replace("{0}", f"{time} {abbreviation}").replace("{1}", date)
    return text.translate(_SPACES)


def format_duration(length: timedelta, locale: Locale) -> str:
    """ "30 minutes", "1 hour", "1 hour 30 minutes" (whole minutes, localised)."""
    hours, minutes = divmod(max(round(length.total_seconds() / 60), 0), 60)
    parts = []
    if hours:
        parts.append(format_unit(hours, "duration-hour", locale=locale))
    if minutes or not hours:
        parts.append(format_unit(minutes, "duration-minute", locale=locale))
    return format_list(parts, style="unit-narrow", locale=locale).translate(_SPACES)


def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)  # an odd locale must not stop a notification


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone: {name!r}") from None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
