"""Snoozing an inbox message: how far ahead it may be snoozed, and the wake-up's contract.

A snoozed message leaves the feed until its time, then returns with a `message.returned` event.
The return is a durable timer in a Temporal workflow (workflows/inbox_snooze.py), one per
message; `SnoozeWakeUp` is what that workflow and its one activity are given.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

# A snooze longer than this is an archive; the widget offers hours and days.
MAX_SNOOZE = timedelta(days=90)


@dataclass(frozen=True)
class SnoozeWakeUp:
    """One snooze of one message: it returns at `until`, unless unsnoozed or snoozed again
    (to another time) before then."""

    tenant_id: uuid.UUID
    recipient_id: uuid.UUID
    message_id: uuid.UUID
    until: datetime


def snooze_problem(until: datetime, now: datetime, shortest: timedelta) -> str | None:
    """What is wrong with snoozing until `until` at `now`, in words; None when nothing is."""
    if until < now + shortest:
        return f"must be at least {_duration(shortest)} ahead (it is {_ahead(until - now)})"
    if until > now + MAX_SNOOZE:
        return f"must be at most {MAX_SNOOZE.days} days ahead"
    return None


def outlives_message(until: datetime, expires_at: datetime | None) -> str | None:
    """A message that expires while snoozed would never return: refused, saying when it ends."""
    if expires_at is not None and until >= expires_at:
        return f"must be before the message expires ({expires_at.isoformat()})"
    return None


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds and seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _ahead(span: timedelta) -> str:
    return "in the past" if span <= timedelta(0) else f"{int(span.total_seconds())} s ahead"
