"""What the policy decided for each channel of one notification at one moment.

Plain frozen dataclasses of strings and aware UTC datetimes; `to_dict`/`from_dict` give the
JSON shape that crosses the Temporal activity boundary.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.policy.wallclock import require_aware
from domain.preferences import DigestFrequency
from domain.types import Channel


class Action(StrEnum):
    SEND_NOW = "send_now"
    DEFER = "defer"  # wake at `until` and ask the policy again
    DIGEST = "digest"  # goes into the digest flushed at `until`
    SUPPRESSED = "suppressed"  # never sent; `code` and `reason` say why


class ReasonCode(StrEnum):
    # suppressed: the recipient opted out, so even urgent notifications respect these
    EVENT_MUTED = "event_muted"
    CHANNEL_DISABLED = "channel_disabled"
    RULE_DISABLED = "rule_disabled"
    UNSUBSCRIBED = "unsubscribed"  # the address, whichever recipient had it
    # suppressed: cannot or may not be sent
    NO_ADDRESS = "no_address"
    DND_DROP = "dnd_drop"
    WEEKEND_DROP = "weekend_drop"
    DAILY_CAP = "daily_cap"
    # deferred (or, for rate_limit, suppressed when the caller cannot say when it frees up)
    DND = "dnd"
    WEEKEND = "weekend"
    RATE_LIMIT = "rate_limit"
    DIGEST = "digest"


@dataclass(frozen=True)
class ChannelDecision:
    channel: Channel
    action: Action
    until: datetime | None = None  # aware UTC: the wake-up (defer) or flush (digest) time
    code: ReasonCode | None = None
    reason: str | None = None  # for people: "email is switched off by the recipient"
    digest_frequency: DigestFrequency | None = None

    @classmethod
    def send_now(cls, channel: Channel) -> "ChannelDecision":
        return cls(channel, Action.SEND_NOW)

    @classmethod
    def defer(
        cls, channel: Channel, until: datetime, code: ReasonCode, reason: str
    ) -> "ChannelDecision":
        return cls(channel, Action.DEFER, require_aware(until, "until"), code, reason)

    @classmethod
    def digest(
        cls, channel: Channel, frequency: DigestFrequency, flush_at: datetime, reason: str
    ) -> "ChannelDecision":
        flush_at = require_aware(flush_at, "flush_at")
        return cls(channel, Action.DIGEST, flush_at, ReasonCode.DIGEST, reason, frequency)

    @classmethod
    def suppress(cls, channel: Channel, code: ReasonCode, reason: str) -> "ChannelDecision":
        return cls(channel, Action.SUPPRESSED, code=code, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": str(self.channel),
            "action": str(self.action),
            "until": self.until.isoformat() if self.until else None,
            "code": str(self.code) if self.code else None,
            "reason": self.reason,
            "digest_frequency": str(self.digest_frequency) if self.digest_frequency else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ChannelDecision":
        until = data.get("until")
        code = data.get("code")
        frequency = data.get("digest_frequency")
        return cls(
            channel=Channel(data["channel"]),
            action=Action(data["action"]),
            until=require_aware(datetime.fromisoformat(until), "until") if until else None,
            code=ReasonCode(code) if code else None,
            reason=data.get("reason"),
            digest_frequency=DigestFrequency(frequency) if frequency else None,
        )


@dataclass(frozen=True)
class Decision:
    channels: tuple[ChannelDecision, ...]

    def for_channel(self, channel: Channel) -> ChannelDecision:
        for decision in self.channels:
            if decision.channel == channel:
                return decision
        raise KeyError(channel)

    def channels_with(self, action: Action) -> list[Channel]:
        return [decision.channel for decision in self.channels if decision.action == action]

    def send_now(self) -> list[Channel]:
        return self.channels_with(Action.SEND_NOW)

    @property
    def all_suppressed(self) -> bool:
        """Nothing will ever be sent for this notification (also true with no channels)."""
        return all(decision.action == Action.SUPPRESSED for decision in self.channels)

    def next_wake(self) -> datetime | None:
        """The earliest `until` of a deferred or digested channel: when the notification's
        workflow should look again (a digest flush time at or before now is due). None when
        nothing waits."""
        waits = [
            decision.until
            for decision in self.channels
            if decision.action in (Action.DEFER, Action.DIGEST) and decision.until is not None
        ]
        return min(waits, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {"channels": [decision.to_dict() for decision in self.channels]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Decision":
        return cls(tuple(ChannelDecision.from_dict(item) for item in data["channels"]))
