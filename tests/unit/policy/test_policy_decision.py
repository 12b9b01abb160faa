"""The decision's helpers and its JSON round trip across the Temporal boundary."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.policy import Action, ChannelDecision, Decision, ReasonCode
from domain.preferences import DigestFrequency
from domain.types import Channel

NOW = datetime(2025, 6, 10, 12, tzinfo=UTC)

MIXED = Decision(
    (
        ChannelDecision.send_now(Channel.IN_APP),
        ChannelDecision.defer(Channel.EMAIL, NOW + timedelta(hours=3), ReasonCode.DND, "dnd"),
        ChannelDecision.digest(
            Channel.SMS, DigestFrequency.HOURLY, NOW + timedelta(hours=1), "hourly"
        ),
        ChannelDecision.suppress(Channel.PUSH, ReasonCode.NO_ADDRESS, "no push device"),
    )
)


def test_round_trip_through_json() -> None:
    data = json.loads(json.dumps(MIXED.to_dict()))
    assert Decision.from_dict(data) == MIXED


def test_json_shape() -> None:
    assert MIXED.to_dict()["channels"][1] == {
        "channel": "email",
        "action": "defer",
        "until": "2025-06-10T15:00:00+00:00",
        "code": "dnd",
        "reason": "dnd",
        "digest_frequency": None,
    }
    assert MIXED.to_dict()["channels"][2]["digest_frequency"] == "hourly"


def test_from_dict_accepts_z_suffix() -> None:
    item = {"channel": "email", "action": "defer", "until": "2025-06-10T15:00:00Z", "code": "dnd"}
    decision = ChannelDecision.from_dict(item)
    assert decision.until == datetime(2025, 6, 10, 15, tzinfo=UTC)
    assert decision.reason is None


def test_from_dict_refuses_naive_until() -> None:
    item = {"channel": "email", "action": "defer", "until": "2025-06-10T15:00:00", "code": "dnd"}
    with pytest.raises(ValueError):
        ChannelDecision.from_dict(item)


def test_until_is_stored_in_utc() -> None:
    local = datetime(2025, 6, 10, 7, tzinfo=ZoneInfo("America/New_York"))
    decision = ChannelDecision.defer(Channel.EMAIL, local, ReasonCode.DND, "dnd")
    assert decision.until == datetime(2025, 6, 10, 11, tzinfo=UTC)
    assert decision.until.tzinfo is UTC


def test_next_wake_is_the_earliest_defer_or_digest() -> None:
    assert MIXED.next_wake() == NOW + timedelta(hours=1)


def test_next_wake_is_none_when_nothing_waits() -> None:
    decision = Decision(
        (
            ChannelDecision.send_now(Channel.EMAIL),
            ChannelDecision.suppress(Channel.SMS, ReasonCode.DAILY_CAP, "cap"),
        )
    )
    assert decision.next_wake() is None


def test_channel_lists() -> None:
    assert MIXED.send_now() == [Channel.IN_APP]
    assert MIXED.channels_with(Action.SUPPRESSED) == [Channel.PUSH]
    assert MIXED.for_channel(Channel.SMS).digest_frequency == DigestFrequency.HOURLY
    with pytest.raises(KeyError):
        Decision(()).for_channel(Channel.EMAIL)


def test_all_suppressed() -> None:
    assert not MIXED.all_suppressed
    suppressed = ChannelDecision.suppress(Channel.EMAIL, ReasonCode.EVENT_MUTED, "muted")
    assert Decision((suppressed,)).all_suppressed
    assert Decision(()).all_suppressed


def test_decisions_are_frozen() -> None:
    with pytest.raises(AttributeError):
        MIXED.channels[0].action = Action.DEFER  # type: ignore[misc]
