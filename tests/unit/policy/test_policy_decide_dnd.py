"""Do-not-disturb through `decide`, and urgent notifications that bypass it."""

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.policy import Action, Decision, ReasonCode, TenantSettings
from domain.types import Channel, Priority

DecideAt = Callable[..., Decision]  # the `decide_at` fixture

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
NIGHT_DND = {"dnd": {"enabled": True, "start": "22:00", "end": "07:00"}}
DROPPING_DND = {"dnd": {"enabled": True, "start": "22:00", "end": "07:00", "action": "drop"}}


def email_of(decision: Decision):
    return decision.for_channel(Channel.EMAIL)


class TestDefer:
    def test_2330_defers_to_0700_next_day(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 23, 30, tzinfo=NEW_YORK)
        email = email_of(decide_at(now, prefs=NIGHT_DND, timezone="America/New_York"))
        assert email.action == Action.DEFER
        assert email.code == ReasonCode.DND
        assert email.reason == "do-not-disturb 22:00-07:00 (America/New_York) is on"
        assert email.until.astimezone(NEW_YORK) == datetime(2025, 6, 11, 7, tzinfo=NEW_YORK)
        assert email.until == datetime(2025, 6, 11, 11, tzinfo=UTC)
        assert email.until.tzinfo is UTC

    def test_outside_window_sends(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 12, tzinfo=NEW_YORK)
        assert decide_at(now, prefs=NIGHT_DND, timezone="America/New_York").send_now() == [
            Channel.EMAIL
        ]

    def test_exactly_at_start_defers(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 22, tzinfo=NEW_YORK)
        assert email_of(decide_at(now, prefs=NIGHT_DND, timezone="America/New_York")).action == (
            Action.DEFER
        )

    def test_exactly_at_end_sends(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 11, 7, tzinfo=NEW_YORK)
        assert decide_at(now, prefs=NIGHT_DND, timezone="America/New_York").send_now() == [
            Channel.EMAIL
        ]

    def test_waking_at_the_deferral_sends(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 23, 30, tzinfo=NEW_YORK)
        first = decide_at(now, prefs=NIGHT_DND, timezone="America/New_York")
        again = decide_at(first.next_wake(), prefs=NIGHT_DND, timezone="America/New_York")
        assert again.send_now() == [Channel.EMAIL]

    def test_disabled_dnd_sends(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 23, 30, tzinfo=NEW_YORK)
        prefs = {"dnd": {"enabled": False}}
        assert decide_at(now, prefs=prefs, timezone="America/New_York").send_now() == [
            Channel.EMAIL
        ]

    def test_window_within_a_day(self, decide_at: DecideAt) -> None:
        prefs = {"dnd": {"enabled": True, "start": "12:00", "end": "14:00"}}
        now = datetime(2025, 6, 10, 13, tzinfo=BERLIN)
        email = email_of(decide_at(now, prefs=prefs, timezone="Europe/Berlin"))
        assert email.until == datetime(2025, 6, 10, 14, tzinfo=BERLIN)

    def test_every_channel_is_deferred(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 23, tzinfo=UTC)
        decision = decide_at(now, prefs=NIGHT_DND, channels=[c.value for c in Channel])
        assert decision.channels_with(Action.DEFER) == list(Channel)


class TestDstNights:
    @pytest.mark.parametrize(
        ("zone", "now_local", "until_utc"),
        [
            # Spring forward: 22:00 EST -> 07:00 EDT.
            ("America/New_York", datetime(2025, 3, 8, 23, 30), datetime(2025, 3, 9, 11)),
            # Fall back: 22:00 EDT -> 07:00 EST.
            ("America/New_York", datetime(2025, 11, 1, 23, 30), datetime(2025, 11, 2, 12)),
            # Spring forward: 22:00 CET -> 07:00 CEST.
            ("Europe/Berlin", datetime(2025, 3, 29, 23, 30), datetime(2025, 3, 30, 5)),
            # Fall back: 22:00 CEST -> 07:00 CET.
            ("Europe/Berlin", datetime(2025, 10, 25, 23, 30), datetime(2025, 10, 26, 6)),
        ],
    )
    def test_deferral_ends_at_0700_local(
        self, decide_at: DecideAt, zone: str, now_local: datetime, until_utc: datetime
    ) -> None:
        now = now_local.replace(tzinfo=ZoneInfo(zone))
        email = email_of(decide_at(now, prefs=NIGHT_DND, timezone=zone))
        assert email.until == until_utc.replace(tzinfo=UTC)
        local = email.until.astimezone(ZoneInfo(zone))
        assert (local.date(), local.time()) == (now_local.date() + timedelta(days=1), time(7))

    def test_from_inside_the_repeated_hour(self, decide_at: DecideAt) -> None:
        second_0130 = datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=NEW_YORK)
        email = email_of(decide_at(second_0130, prefs=NIGHT_DND, timezone="America/New_York"))
        assert email.until == datetime(2025, 11, 2, 12, tzinfo=UTC)

    def test_window_ending_inside_the_gap(self, decide_at: DecideAt) -> None:
        prefs = {"dnd": {"enabled": True, "start": "22:00", "end": "02:30"}}
        now = datetime(2025, 3, 9, 1, 45, tzinfo=NEW_YORK)
        email = email_of(decide_at(now, prefs=prefs, timezone="America/New_York"))
        assert email.until.astimezone(NEW_YORK) == datetime(2025, 3, 9, 3, tzinfo=NEW_YORK)

    def test_kolkata(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 23, 30, tzinfo=KOLKATA)
        email = email_of(decide_at(now, prefs=NIGHT_DND, timezone="Asia/Kolkata"))
        assert email.until == datetime(2025, 6, 11, 1, 30, tzinfo=UTC)
        assert email.until.astimezone(KOLKATA) == datetime(2025, 6, 11, 7, tzinfo=KOLKATA)


class TestDrop:
    def test_drop_action_suppresses(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 23, 30, tzinfo=UTC)
        email = email_of(decide_at(now, prefs=DROPPING_DND))
        assert (email.action, email.code) == (Action.SUPPRESSED, ReasonCode.DND_DROP)
        assert email.reason == "do-not-disturb 22:00-07:00 (UTC) is on and drops notifications"

    def test_drop_action_outside_window_sends(self, decide_at: DecideAt) -> None:
        now = datetime(2025, 6, 10, 7, tzinfo=UTC)
        assert decide_at(now, prefs=DROPPING_DND).send_now() == [Channel.EMAIL]


class TestUrgent:
    NOW = datetime(2025, 6, 10, 23, 30, tzinfo=UTC)

    def test_urgent_bypasses_dnd(self, decide_at: DecideAt) -> None:
        decision = decide_at(self.NOW, prefs=NIGHT_DND, priority=Priority.URGENT)
        assert decision.send_now() == [Channel.EMAIL]

    def test_urgent_bypasses_dropping_dnd(self, decide_at: DecideAt) -> None:
        decision = decide_at(self.NOW, prefs=DROPPING_DND, priority=Priority.URGENT)
        assert decision.send_now() == [Channel.EMAIL]

    def test_high_priority_does_not_bypass(self, decide_at: DecideAt) -> None:
        decision = decide_at(self.NOW, prefs=NIGHT_DND, priority=Priority.HIGH)
        assert email_of(decision).code == ReasonCode.DND

    def test_urgent_but_muted_is_suppressed(self, decide_at: DecideAt) -> None:
        prefs = {**NIGHT_DND, "muted_event_keys": ["booking.updated"]}
        decision = decide_at(self.NOW, prefs=prefs, priority=Priority.URGENT)
        assert email_of(decision).code == ReasonCode.EVENT_MUTED

    def test_tenant_can_turn_the_bypass_off_per_event_key(self, decide_at: DecideAt) -> None:
        tenant = TenantSettings(urgent_bypass={"booking.updated": False})
        decision = decide_at(self.NOW, prefs=NIGHT_DND, priority=Priority.URGENT, tenant=tenant)
        assert email_of(decision).code == ReasonCode.DND
        other = decide_at(
            self.NOW, "booking.cancelled", prefs=NIGHT_DND, priority=Priority.URGENT, tenant=tenant
        )
        assert other.send_now() == [Channel.EMAIL]

    def test_tenant_can_confirm_the_bypass(self, decide_at: DecideAt) -> None:
        tenant = TenantSettings(urgent_bypass={"booking.updated": True})
        decision = decide_at(self.NOW, prefs=NIGHT_DND, priority=Priority.URGENT, tenant=tenant)
        assert decision.send_now() == [Channel.EMAIL]
