"""The delivery policy's decision, with the recipient's send counters: the daily reminder cap
and the rate limit are read, and the slots a send now needs are taken atomically with it."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import deliveries as store
from db import policy_store
from domain import policy
from domain.contracts import CounterSlot
from domain.preferences import Preferences, effective_preferences
from domain.send_windows import local_day_start, rate_window
from domain.types import Priority

REMINDERS_DAY, RATE_WINDOW = "reminders_day", "rate_window"


@dataclass(frozen=True)
class Subject:
    """What the policy decides about, and which of the recipient's send counters apply."""

    what: policy.Notification
    who: policy.Recipient
    recipient_id: uuid.UUID
    # The recipient's local day, when this is a (daily capped) reminder.
    reminder_day: datetime | None
    rate_window: tuple[datetime, datetime] | None  # when the recipient has a rate limit

    @property
    def counted(self) -> bool:
        return self.reminder_day is not None or self.rate_window is not None


def subject_of(
    loaded: store.NotificationContext, as_of: datetime, prefs: Preferences | None = None
) -> Subject:
    """`prefs`: the recipient's effective preferences, when the caller has them already (a
    broadcast's page resolves each distinct overrides document once)."""
    notification, recipient = loaded.notification, loaded.recipient
    if prefs is None:
        prefs = effective_preferences(loaded.preference_defaults, recipient.preference_overrides)
    who = policy.Recipient(
        preferences=prefs,
        addresses=recipient.reachable,
        timezone=recipient.timezone,
        locale=recipient.locale,
        unsubscribed=loaded.unsubscribed,
    )
    is_reminder = notification.event_key in loaded.policy_settings.reminder_event_keys
    return Subject(
        policy.Notification(
            notification.event_key, Priority(notification.priority), notification.channels
        ),
        who,
        recipient.id,
        local_day_start(as_of, who.zone) if is_reminder else None,
        rate_window(as_of, prefs.rate_limit.window_minutes) if prefs.rate_limit else None,
    )


async def decide_with_counters(
    session: AsyncSession,
    subject: Subject,
    settings: policy.TenantSettings,
    as_of: datetime,
    take_slots: bool,
) -> tuple[policy.Decision, list[CounterSlot]]:
    what, who, recipient_id = subject.what, subject.who, subject.recipient_id
    prefs, day, window = who.preferences, subject.reminder_day, subject.rate_window
    # Only reminders count against the daily cap: other notifications skip that read.
    reminders_today = (
        await policy_store.sent_in(session, recipient_id, REMINDERS_DAY, day) if day else 0
    )
    counts = policy.SendCounts(reminders_sent_today=reminders_today)
    if window:
        counts = replace(
            counts,
            sent_in_rate_window=await policy_store.sent_in(
                session, recipient_id, RATE_WINDOW, window[0]
            ),
            rate_window_frees_at=window[1],
        )
    decision = policy.decide(what, who, as_of, counts, settings)
    slots: list[CounterSlot] = []
    if not take_slots or not decision.send_now():
        return decision, slots
    # Take the slots the policy counted on; if another notification took the last one
    # in the meantime, decide again as if the window were full.
    if day:
        if await policy_store.take_slot(
            session, recipient_id, REMINDERS_DAY, day, prefs.max_reminders_per_day
        ):
            slots.append(CounterSlot(REMINDERS_DAY, day))
        else:
            counts = replace(counts, reminders_sent_today=prefs.max_reminders_per_day)
            decision = policy.decide(what, who, as_of, counts, settings)
    if window and prefs.rate_limit and decision.send_now():
        if await policy_store.take_slot(
            session, recipient_id, RATE_WINDOW, window[0], prefs.rate_limit.max_count
        ):
            slots.append(CounterSlot(RATE_WINDOW, window[0]))
        else:
            counts = replace(counts, sent_in_rate_window=prefs.rate_limit.max_count)
            decision = policy.decide(what, who, as_of, counts, settings)
    return decision, slots
