"""Digest flush boundaries, and digests through `decide`."""

from collections.abc import Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.policy import Action, Decision, ReasonCode, digest_flush_time
from domain.preferences import DigestFrequency, DigestSetting
from domain.types import Channel, Priority

DecideAt = Callable[..., Decision]  # the `decide_at` fixture

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def setting(frequency: str, at: time = time(9), weekday: int = 0) -> DigestSetting:
    return DigestSetting(frequency=DigestFrequency(frequency), time=at, weekday=weekday)


def local(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    zone: ZoneInfo = NEW_YORK,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold)


class TestHourly:
    def test_top_of_next_hour(self) -> None:
        now = local(2025, 6, 10, 10, 20)
        assert digest_flush_time(setting("hourly"), now, NEW_YORK) == local(2025, 6, 10, 11)

    def test_on_the_hour_flushes_now(self) -> None:
        now = local(2025, 6, 10, 10)
        assert digest_flush_time(setting("hourly"), now, NEW_YORK) == now

    def test_kolkata_hour_starts_at_half_past_utc(self) -> None:
        now = datetime(2025, 6, 10, 10, 5, tzinfo=UTC)  # 15:35 IST
        flush = digest_flush_time(setting("hourly"), now, KOLKATA)
        assert flush == datetime(2025, 6, 10, 10, 30, tzinfo=UTC)
        assert flush.astimezone(KOLKATA).time() == time(16)

    def test_spring_forward(self) -> None:
        flush = digest_flush_time(setting("hourly"), local(2025, 3, 9, 1, 30), NEW_YORK)
        assert flush == datetime(2025, 3, 9, 7, tzinfo=UTC)  # 03:00 EDT

    def test_fall_back(self) -> None:
        first_0130 = local(2025, 11, 2, 1, 30)
        flush = digest_flush_time(setting("hourly"), first_0130, NEW_YORK)
        assert flush == datetime(2025, 11, 2, 6, tzinfo=UTC)  # the second 01:00


class TestDaily:
    def test_before_the_time_is_today(self) -> None:
        now = local(2025, 6, 10, 8)
        assert digest_flush_time(setting("daily"), now, NEW_YORK) == local(2025, 6, 10, 9)

    def test_after_the_time_is_tomorrow(self) -> None:
        now = local(2025, 6, 10, 10)
        assert digest_flush_time(setting("daily"), now, NEW_YORK) == local(2025, 6, 11, 9)

    def test_at_the_time_flushes_now(self) -> None:
        now = local(2025, 6, 10, 9)
        assert digest_flush_time(setting("daily"), now, NEW_YORK) == now

    def test_across_spring_forward_keeps_the_wall_time(self) -> None:
        flush = digest_flush_time(setting("daily"), local(2025, 3, 8, 10), NEW_YORK)
        assert flush == datetime(2025, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT


class TestWeekly:
    def test_later_in_the_week(self) -> None:
        wednesday = local(2025, 6, 11, 10)
        flush = digest_flush_time(setting("weekly", weekday=4), wednesday, NEW_YORK)
        assert flush == local(2025, 6, 13, 9)  # Friday

    def test_same_day_before_the_time_is_today(self) -> None:
        monday = local(2025, 6, 9, 8)
        assert digest_flush_time(setting("weekly"), monday, NEW_YORK) == local(2025, 6, 9, 9)

    def test_same_day_after_the_time_is_next_week(self) -> None:
        monday = local(2025, 6, 9, 10)
        assert digest_flush_time(setting("weekly"), monday, NEW_YORK) == local(2025, 6, 16, 9)

    def test_earlier_weekday_is_next_week(self) -> None:
        wednesday = local(2025, 6, 11, 10)
        assert digest_flush_time(setting("weekly"), wednesday, NEW_YORK) == local(2025, 6, 16, 9)


def test_immediate_has_no_flush_time() -> None:
    with pytest.raises(ValueError):
        digest_flush_time(setting("immediate"), local(2025, 6, 10, 10), NEW_YORK)


DAILY_BOOKING_DIGEST = {"digests": {"booking": {"frequency": "daily", "time": "18:00"}}}
MORNING = datetime(2025, 6, 10, 10, tzinfo=UTC)


class TestDecide:
    def test_category_with_digest_goes_into_it(self, decide_at: DecideAt) -> None:
        decision = decide_at(
            MORNING, "booking.created", prefs=DAILY_BOOKING_DIGEST, channels=["email", "sms"]
        )
        email = decision.for_channel(Channel.EMAIL)
        assert email.action == Action.DIGEST
        assert email.code == ReasonCode.DIGEST
        assert email.digest_frequency == DigestFrequency.DAILY
        assert email.until == datetime(2025, 6, 10, 18, tzinfo=UTC)
        assert (
            email.reason == "booking notifications are collected into the recipient's daily digest"
        )
        assert decision.channels_with(Action.DIGEST) == [Channel.EMAIL, Channel.SMS]

    def test_flush_time_is_in_the_recipient_zone(self, decide_at: DecideAt) -> None:
        decision = decide_at(
            MORNING, "booking.created", prefs=DAILY_BOOKING_DIGEST, timezone="America/New_York"
        )
        assert decision.for_channel(Channel.EMAIL).until == local(2025, 6, 10, 18)

    def test_other_category_is_not_digested(self, decide_at: DecideAt) -> None:
        assert decide_at(MORNING, "billing.invoice", prefs=DAILY_BOOKING_DIGEST).send_now()

    def test_immediate_is_not_digested(self, decide_at: DecideAt) -> None:
        prefs = {"digests": {"booking": {"frequency": "immediate"}}}
        assert decide_at(MORNING, "booking.created", prefs=prefs).send_now()

    def test_urgent_bypasses_the_digest(self, decide_at: DecideAt) -> None:
        decision = decide_at(
            MORNING, "booking.created", prefs=DAILY_BOOKING_DIGEST, priority=Priority.URGENT
        )
        assert decision.send_now() == [Channel.EMAIL]

    def test_opt_out_wins_over_digest(self, decide_at: DecideAt) -> None:
        prefs = {**DAILY_BOOKING_DIGEST, "channels": {"email": False}}
        decision = decide_at(MORNING, "booking.created", prefs=prefs)
        assert decision.for_channel(Channel.EMAIL).code == ReasonCode.CHANNEL_DISABLED

    def test_digest_wins_over_dnd(self, decide_at: DecideAt) -> None:
        prefs = {**DAILY_BOOKING_DIGEST, "dnd": {"enabled": True}}
        night = datetime(2025, 6, 10, 23, tzinfo=UTC)
        email = decide_at(night, "booking.created", prefs=prefs).for_channel(Channel.EMAIL)
        assert email.action == Action.DIGEST
        assert email.until == datetime(2025, 6, 11, 18, tzinfo=UTC)
