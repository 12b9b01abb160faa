"""Which channels are asked for, and the opt-outs that even urgent notifications respect."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from domain.policy import Action, Decision, ReasonCode
from domain.types import Channel, Priority

DecideAt = Callable[..., Decision]  # the `decide_at` fixture

NOW = datetime(2025, 6, 10, 12, tzinfo=UTC)


class TestRequestedChannels:
    @pytest.mark.parametrize(
        ("method", "expected"),
        [
            ("email", [Channel.EMAIL]),
            ("sms", [Channel.SMS]),
            ("both", [Channel.EMAIL, Channel.SMS]),
        ],
    )
    def test_preferred_method_when_channels_are_not_given(
        self, decide_at: DecideAt, method: str, expected: list[Channel]
    ) -> None:
        decision = decide_at(NOW, prefs={"preferred_method": method})
        assert decision.send_now() == expected

    def test_default_preferred_method_is_email(self, decide_at: DecideAt) -> None:
        assert decide_at(NOW).send_now() == [Channel.EMAIL]

    def test_explicit_channels_win_over_preferred_method(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs={"preferred_method": "sms"}, channels=["in_app", "email"])
        assert decision.send_now() == [Channel.IN_APP, Channel.EMAIL]

    def test_explicit_channels_are_taken_once_in_order(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, channels=["sms", "email", "sms"])
        assert [d.channel for d in decision.channels] == [Channel.SMS, Channel.EMAIL]

    def test_empty_channel_list_means_preferred_method(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs={"preferred_method": "sms"}, channels=[])
        assert decision.send_now() == [Channel.SMS]

    def test_unknown_channel_is_refused(self, decide_at: DecideAt) -> None:
        with pytest.raises(ValueError):
            decide_at(NOW, channels=["pigeon"])


class TestChannelSwitch:
    def test_explicit_channel_switched_off_is_suppressed(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs={"channels": {"email": False}}, channels=["email", "sms"])
        email = decision.for_channel(Channel.EMAIL)
        assert email.action == Action.SUPPRESSED
        assert email.code == ReasonCode.CHANNEL_DISABLED
        assert email.reason == "email is switched off by the recipient"
        assert decision.send_now() == [Channel.SMS]

    def test_preferred_channel_switched_off_is_suppressed(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs={"preferred_method": "both", "channels": {"sms": False}})
        assert decision.for_channel(Channel.SMS).code == ReasonCode.CHANNEL_DISABLED
        assert decision.send_now() == [Channel.EMAIL]

    def test_channel_missing_from_switches_is_on(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs={"channels": {"sms": True}}, channels=["email"])
        assert decision.send_now() == [Channel.EMAIL]


class TestRules:
    def test_category_rule_switches_a_channel_off(self, decide_at: DecideAt) -> None:
        prefs = {"rules": {"booking": {"sms": False}}}
        decision = decide_at(NOW, "booking.reminder", prefs=prefs, channels=["email", "sms"])
        sms = decision.for_channel(Channel.SMS)
        assert (sms.action, sms.code) == (Action.SUPPRESSED, ReasonCode.RULE_DISABLED)
        assert sms.reason == "sms is switched off for the booking category by the recipient"
        assert decision.send_now() == [Channel.EMAIL]

    def test_category_rule_does_not_touch_other_categories(self, decide_at: DecideAt) -> None:
        prefs = {"rules": {"booking": {"sms": False}}}
        decision = decide_at(NOW, "billing.invoice", prefs=prefs, channels=["sms"])
        assert decision.send_now() == [Channel.SMS]

    def test_event_key_rule(self, decide_at: DecideAt) -> None:
        prefs = {"rules": {"booking.reminder": {"email": False}}}
        reminder = decide_at(NOW, "booking.reminder", prefs=prefs).for_channel(Channel.EMAIL)
        assert reminder.code == ReasonCode.RULE_DISABLED
        assert reminder.reason == "email is switched off for booking.reminder by the recipient"
        assert decide_at(NOW, "booking.created", prefs=prefs).send_now() == [Channel.EMAIL]

    def test_event_key_rule_wins_over_category_rule(self, decide_at: DecideAt) -> None:
        prefs = {"rules": {"booking": {"sms": False}, "booking.reminder": {"sms": True}}}
        assert decide_at(NOW, "booking.reminder", prefs=prefs, channels=["sms"]).send_now() == [
            Channel.SMS
        ]
        created = decide_at(NOW, "booking.created", prefs=prefs, channels=["sms"])
        assert created.for_channel(Channel.SMS).code == ReasonCode.RULE_DISABLED

    def test_event_key_rule_off_wins_over_category_rule_on(self, decide_at: DecideAt) -> None:
        prefs = {"rules": {"booking": {"sms": True}, "booking.reminder": {"sms": False}}}
        decision = decide_at(NOW, "booking.reminder", prefs=prefs, channels=["sms"])
        assert decision.for_channel(Channel.SMS).code == ReasonCode.RULE_DISABLED

    def test_channel_the_event_rule_omits_falls_back_to_category(self, decide_at: DecideAt) -> None:
        prefs = {"rules": {"booking": {"sms": False}, "booking.reminder": {"email": True}}}
        decision = decide_at(NOW, "booking.reminder", prefs=prefs, channels=["email", "sms"])
        assert decision.send_now() == [Channel.EMAIL]
        assert decision.for_channel(Channel.SMS).code == ReasonCode.RULE_DISABLED

    def test_key_without_dot_is_its_own_category(self, decide_at: DecideAt) -> None:
        prefs = {"rules": {"daily_agenda": {"email": False}}}
        decision = decide_at(NOW, "daily_agenda", prefs=prefs, channels=["email"])
        assert decision.for_channel(Channel.EMAIL).code == ReasonCode.RULE_DISABLED


class TestMutedEvents:
    def test_muted_event_suppresses_every_channel(self, decide_at: DecideAt) -> None:
        prefs = {"muted_event_keys": ["booking.reminder"]}
        decision = decide_at(NOW, "booking.reminder", prefs=prefs, channels=["email", "sms"])
        assert decision.all_suppressed
        for channel_decision in decision.channels:
            assert channel_decision.code == ReasonCode.EVENT_MUTED
            assert channel_decision.reason == "booking.reminder is muted by the recipient"

    def test_muting_is_per_event_key(self, decide_at: DecideAt) -> None:
        prefs = {"muted_event_keys": ["booking.reminder"]}
        assert decide_at(NOW, "booking.created", prefs=prefs).send_now() == [Channel.EMAIL]

    def test_muted_is_reported_before_a_switched_off_channel(self, decide_at: DecideAt) -> None:
        prefs = {"muted_event_keys": ["booking.reminder"], "channels": {"email": False}}
        decision = decide_at(NOW, "booking.reminder", prefs=prefs)
        assert decision.for_channel(Channel.EMAIL).code == ReasonCode.EVENT_MUTED


class TestAddresses:
    def test_channel_without_address_is_suppressed(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs={"preferred_method": "both"}, addresses={Channel.EMAIL})
        sms = decision.for_channel(Channel.SMS)
        assert (sms.action, sms.code) == (Action.SUPPRESSED, ReasonCode.NO_ADDRESS)
        assert sms.reason == "the recipient has no phone number"
        assert decision.send_now() == [Channel.EMAIL]

    def test_no_email_address(self, decide_at: DecideAt) -> None:
        email = decide_at(NOW, addresses=set()).for_channel(Channel.EMAIL)
        assert email.reason == "the recipient has no email address"

    def test_opt_out_is_reported_before_missing_address(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, prefs={"channels": {"email": False}}, addresses=set())
        assert decision.for_channel(Channel.EMAIL).code == ReasonCode.CHANNEL_DISABLED


class TestUrgentNeverBypassesAnOptOut:
    @pytest.mark.parametrize(
        ("prefs", "code"),
        [
            ({"muted_event_keys": ["booking.reminder"]}, ReasonCode.EVENT_MUTED),
            ({"channels": {"email": False}}, ReasonCode.CHANNEL_DISABLED),
            ({"rules": {"booking": {"email": False}}}, ReasonCode.RULE_DISABLED),
        ],
    )
    def test_opt_out_holds(self, decide_at: DecideAt, prefs: dict, code: ReasonCode) -> None:
        decision = decide_at(NOW, "booking.reminder", prefs=prefs, priority=Priority.URGENT)
        assert decision.for_channel(Channel.EMAIL).code == code

    def test_missing_address_holds(self, decide_at: DecideAt) -> None:
        decision = decide_at(NOW, priority=Priority.URGENT, addresses=set())
        assert decision.for_channel(Channel.EMAIL).code == ReasonCode.NO_ADDRESS


def test_recipient_preference_timezone_overrides_recipient_zone(decide_at: DecideAt) -> None:
    # 21:30Z is 23:30 in Berlin (in DND) but 17:30 in New York.
    prefs = {"timezone": "Europe/Berlin", "dnd": {"enabled": True}}
    decision = decide_at(
        datetime(2025, 6, 10, 21, 30, tzinfo=UTC), prefs=prefs, timezone="America/New_York"
    )
    assert decision.for_channel(Channel.EMAIL).until == datetime(2025, 6, 11, 5, tzinfo=UTC)


def test_naive_now_is_refused(decide_at: DecideAt) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide_at(datetime(2025, 6, 10, 12))
