"""The variables a notification's templates see, built from what the notification carries."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.templating.times import booking_time_variables
from domain.templating.variables import flatten_custom_answers

# Context keys Herald reads for itself. Templates cannot read names starting with "_".
OWNER_KEY = "owner_id"  # the organizer whose own templates win over the tenant's
TEMPLATE_VERSION_KEY = "_template_version_id"  # render exactly this version (test sends)
TEST_SEND_KEY = "_test"  # a test send: marked "[TEST] "

# The booking's times as the booking payload carries them (ISO 8601), from which Herald
# formats start_time & co. itself, in each reader's time zone and language.
BOOKING_START, BOOKING_END, PREVIOUS_START = "start", "end", "previous_start"


def notification_variables(
    context: Mapping[str, Any],
    *,
    recipient_name: str | None,
    recipient_email: str | None,
    recipient_timezone: str,
    recipient_locale: str,
) -> dict[str, Any]:
    """The context, with `recipient_name`/`recipient_email` (unless it sets them), one
    `custom_<question>` per custom answer, and the booking times of `booking_times`.

    Raises ValueError for a time zone that does not exist.
    """
    values: dict[str, Any] = {"recipient_name": recipient_name, "recipient_email": recipient_email}
    answers = context.get("custom_answers")
    if isinstance(answers, Mapping):
        values |= flatten_custom_answers(answers)
    values |= context
    values |= booking_times(context, recipient_timezone, recipient_locale)
    return values


def booking_times(context: Mapping[str, Any], timezone: str, locale: str) -> dict[str, str]:
    """start_time/end_time, *_invitee, duration and previous_start_time(_invitee), formatted
    from `start`/`end` (and `previous_start`) when they are ISO 8601 date-times.

    The organizer's times are in `organizer_timezone`, the invitee's in `invitee_timezone`,
    each defaulting to the recipient's zone; all in the recipient's locale. They replace
    any preformatted values in the context.
    """
    start, end = _moment(context, BOOKING_START), _moment(context, BOOKING_END)
    if start is None or end is None:
        # `start` and `end` are common words: in another event's context they may be
        # anything, and are then only variables like the others.
        return {}
    zones = (
        context.get("organizer_timezone") or timezone,
        context.get("invitee_timezone") or timezone,
    )
    times = booking_time_variables(start, end, *zones, locale)
    previous = _moment(context, PREVIOUS_START)
    if previous is not None:
        former = booking_time_variables(previous, previous, *zones, locale)
        times["previous_start_time"] = former["start_time"]
        times["previous_start_time_invitee"] = former["start_time_invitee"]
    return times


def _moment(context: Mapping[str, Any], key: str) -> datetime | None:
    value = context.get(key)
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
