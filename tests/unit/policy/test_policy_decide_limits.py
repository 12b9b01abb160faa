"""The daily reminder cap and the general rate limit through `decide`."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.policy import Action, Decision, ReasonCode, SendCounts, TenantSettings
from domain.types import Channel, Priority

DecideAt = Callable[..., Decision]  # the `decide_at` fixture

NOW = datetime(2025, 6, 10, 12, tzinfo=UTC)
REMINDER = "booking.reminder"
RATE = {"rate_limit": {"max_count": 5, "window_minutes": 60}}


def email_of(decision: Decision):
    return decision.for_channel(Channel.EMAIL)


class TestDailyCap:
    def test_tenth_reminder_goes(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, REMINDER, counts=SendCounts(reminders_sent_today=9))
        assert decision.send_now() == [Channel.EMAIL]

    def test_eleventh_reminder_is_suppressed(self, decide_at: DecideAt) -> None:
        email = email_of(decide_at(NOW, REMINDER, counts=SendCounts(reminders_sent_today=10)))
        assert (email.action, email.code) == (Action.SUPPRESSED, ReasonCode.DAILY_CAP)
        assert email.reason == "10 reminders already sent today (cap 10)"

    def test_cap_from_preferences(self, decide_at: DecideAt) -> None:
        prefs = {"max_reminders_per_day": 1}
        email = email_of(decide_at(NOW, REMINDER, prefs=prefs, counts=SendCounts(1)))
        assert email.reason == "1 reminder already sent today (cap 1)"
        assert decide_at(NOW, REMINDER, prefs=prefs, counts=SendCounts(0)).send_now()

    def test_cap_applies_to_reminders_only(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, "booking.created", counts=SendCounts(reminders_sent_today=50))
        assert decision.send_now() == [Channel.EMAIL]

    def test_cap_follows_the_tenant_reminder_keys(self, decide_at: DecideAt) -> None:
        tenant = TenantSettings(reminder_event_keys={"class.reminder", REMINDER})
        counts = SendCounts(reminders_sent_today=10)
        decision = decide_at(NOW, "class.reminder", counts=counts, tenant=tenant)
        assert email_of(decision).code == ReasonCode.DAILY_CAP

    def test_urgent_does_not_bypass_the_cap(self, decide_at: DecideAt) -> None:
        counts = SendCounts(reminders_sent_today=10)
        decision = decide_at(NOW, REMINDER, priority=Priority.URGENT, counts=counts)
        assert email_of(decision).code == ReasonCode.DAILY_CAP

    def test_a_deferred_reminder_is_counted_when_it_wakes(self, decide_at: DecideAt) -> None:
        # Today's cap is reached, but DND moves it into tomorrow, which has its own count.
        prefs = {"dnd": {"enabled": True}}
        late = datetime(2025, 6, 10, 23, tzinfo=UTC)
        email = email_of(decide_at(late, REMINDER, prefs=prefs, counts=SendCounts(10)))
        assert (email.action, email.code) == (Action.DEFER, ReasonCode.DND)


class TestRateLimit:
    def test_below_the_limit_sends(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs=RATE, counts=SendCounts(sent_in_rate_window=4))
        assert decision.send_now() == [Channel.EMAIL]

    def test_no_limit_set_sends(self, decide_at: DecideAt) -> None:
        assert decide_at(NOW, counts=SendCounts(sent_in_rate_window=1000)).send_now()

    def test_at_the_limit_without_a_free_time_is_suppressed(self, decide_at: DecideAt) -> None:
        email = email_of(decide_at(NOW, prefs=RATE, counts=SendCounts(sent_in_rate_window=5)))
        assert (email.action, email.code) == (Action.SUPPRESSED, ReasonCode.RATE_LIMIT)
        assert email.reason == "5 notifications sent in the last 60 minutes (limit 5)"

    def test_at_the_limit_waits_for_the_window(self, decide_at: DecideAt) -> None:
        frees_at = NOW + timedelta(minutes=12)
        counts = SendCounts(sent_in_rate_window=5, rate_window_frees_at=frees_at)
        email = email_of(decide_at(NOW, prefs=RATE, counts=counts))
        assert (email.action, email.code, email.until) == (
            Action.DEFER,
            ReasonCode.RATE_LIMIT,
            frees_at,
        )

    def test_free_time_in_the_past_is_suppressed(self, decide_at: DecideAt) -> None:
        counts = SendCounts(sent_in_rate_window=5, rate_window_frees_at=NOW)
        assert email_of(decide_at(NOW, prefs=RATE, counts=counts)).action == Action.SUPPRESSED

    def test_free_time_inside_dnd_waits_for_dnd_to_end(self, decide_at: DecideAt) -> None:
        prefs = {**RATE, "dnd": {"enabled": True}}
        now = datetime(2025, 6, 10, 21, 50, tzinfo=UTC)
        counts = SendCounts(sent_in_rate_window=5, rate_window_frees_at=now + timedelta(minutes=30))
        email = email_of(decide_at(now, prefs=prefs, counts=counts))
        assert email.code == ReasonCode.RATE_LIMIT
        assert email.until == datetime(2025, 6, 11, 7, tzinfo=UTC)

    def test_naive_free_time_is_refused(self, decide_at: DecideAt) -> None:
        counts = SendCounts(sent_in_rate_window=5, rate_window_frees_at=datetime(2025, 6, 10, 13))
        with pytest.raises(ValueError):
            decide_at(NOW, prefs=RATE, counts=counts)

    def test_urgent_bypasses_the_rate_limit(self, decide_at: DecideAt) -> None:
        counts = SendCounts(sent_in_rate_window=5)
        assert decide_at(NOW, prefs=RATE, priority=Priority.URGENT, counts=counts).send_now()

    def test_urgent_without_bypass_is_rate_limited(self, decide_at: DecideAt) -> None:
        tenant = TenantSettings(urgent_bypass={"booking.updated": False})
        counts = SendCounts(sent_in_rate_window=5)
        decision = decide_at(
            NOW, prefs=RATE, priority=Priority.URGENT, counts=counts, tenant=tenant
        )
        assert email_of(decision).code == ReasonCode.RATE_LIMIT

    def test_cap_is_reported_before_the_rate_limit(self, decide_at: DecideAt) -> None:
        counts = SendCounts(reminders_sent_today=10, sent_in_rate_window=5)
        assert email_of(decide_at(NOW, REMINDER, prefs=RATE, counts=counts)).code == (
            ReasonCode.DAILY_CAP
        )
