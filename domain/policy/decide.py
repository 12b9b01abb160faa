"""The delivery policy: for one notification at one instant, what happens on each channel.

Pure and deterministic: the current instant, the preferences and the counts of what was
already sent are all arguments, so it can run inside a Temporal activity and be asked again,
with fresh counts, every time a deferred notification wakes up.

Each channel goes through these checks; the first that holds the channel back decides:
1. opt-outs: the address unsubscribed from the category (through any recipient), the event
   is muted, the channel or a rule is switched off (never bypassed);
2. the recipient has no address for the channel;
3. the category's digest                     (skipped by an urgent notification that bypasses);
4. weekend exclusion, then do-not-disturb    (skipped by an urgent notification that bypasses);
5. the daily reminder cap;
6. the rate limit                            (skipped by an urgent notification that bypasses).
The cap and the rate limit count sends at `now`, so they only matter for a channel that
would otherwise go now: a deferred notification is counted when it wakes up.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.policy.decision import ChannelDecision, Decision, ReasonCode
from domain.policy.digests import digest_flush_time
from domain.policy.inputs import (
    AGENDA_EVENT_KEY,
    DEFAULT_TENANT_SETTINGS,
    NOTHING_SENT,
    Notification,
    Recipient,
    SendCounts,
    TenantSettings,
)
from domain.policy.time_rules import Hold, TimeRules
from domain.policy.wallclock import require_aware
from domain.preferences import DigestFrequency, Preferences, PreferredMethod
from domain.types import Channel, Priority, event_category, subscription_category

_PREFERRED_CHANNELS = {
    PreferredMethod.EMAIL: (Channel.EMAIL,),
    PreferredMethod.SMS: (Channel.SMS,),
    PreferredMethod.BOTH: (Channel.EMAIL, Channel.SMS),
}
_ADDRESS_NAMES = {
    Channel.EMAIL: "email address",
    Channel.SMS: "phone number",
    Channel.PUSH: "push device",
    Channel.IN_APP: "in-app inbox",
    Channel.CHAT: "chat address",
    Channel.WEBHOOK: "webhook channel URL (the tenant sets one)",
}


def decide(
    notification: Notification,
    recipient: Recipient,
    now: datetime,
    counts: SendCounts = NOTHING_SENT,
    tenant: TenantSettings = DEFAULT_TENANT_SETTINGS,
) -> Decision:
    """Decide every channel of `notification` for `recipient` at the instant `now`."""
    is_reminder = notification.event_key in tenant.reminder_event_keys
    situation = _Situation(
        notification=notification,
        recipient=recipient,
        now=require_aware(now, "now"),
        counts=counts,
        is_reminder=is_reminder,
        urgent_bypasses=notification.priority == Priority.URGENT
        and tenant.urgent_bypasses(notification.event_key),
        time_rules=TimeRules(
            preferences=recipient.preferences,
            zone=recipient.zone,
            weekend_days=recipient.weekend_days,
            is_reminder=is_reminder,
            is_agenda=notification.event_key == AGENDA_EVENT_KEY,
        ),
    )
    channels = requested_channels(notification.channels, recipient.preferences)
    return Decision(tuple(_decide_channel(channel, situation) for channel in channels))


def requested_channels(explicit: Sequence[str] | None, preferences: Preferences) -> list[Channel]:
    """The notification's own channels (once each, in order), else, when it names none,
    the preferred method's."""
    if not explicit:
        return list(_PREFERRED_CHANNELS[preferences.preferred_method])
    return list(dict.fromkeys(Channel(channel) for channel in explicit))


@dataclass(frozen=True)
class _Situation:
    notification: Notification
    recipient: Recipient
    now: datetime
    counts: SendCounts
    is_reminder: bool
    urgent_bypasses: bool
    time_rules: TimeRules

    @property
    def event_key(self) -> str:
        return self.notification.event_key

    @property
    def preferences(self) -> Preferences:
        return self.recipient.preferences


def _decide_channel(channel: Channel, s: _Situation) -> ChannelDecision:
    refusal = _opt_out(channel, s) or _missing_address(channel, s)
    if refusal is not None:
        return refusal
    if not s.urgent_bypasses:
        held = _digest(channel, s) or _from_hold(channel, s.time_rules.settle(s.now, s.now))
        if held is not None:
            return held
    capped = _daily_cap(channel, s)
    if capped is not None:
        return capped
    if not s.urgent_bypasses:
        limited = _rate_limit(channel, s)
        if limited is not None:
            return limited
    return ChannelDecision.send_now(channel)


def _from_hold(channel: Channel, hold: Hold | None) -> ChannelDecision | None:
    if hold is None:
        return None
    if hold.until is None:
        return ChannelDecision.suppress(channel, hold.code, hold.reason)
    return ChannelDecision.defer(channel, hold.until, hold.code, hold.reason)


def _opt_out(channel: Channel, s: _Situation) -> ChannelDecision | None:
    return _own_opt_out(channel, s) or _unsubscribed_address(channel, s)


def _unsubscribed_address(channel: Channel, s: _Situation) -> ChannelDecision | None:
    """The address unsubscribed (through this recipient or another with the same address):
    no rule of the recipient's own switches that back on."""
    category = subscription_category(s.event_key)
    if (channel, category) not in s.recipient.unsubscribed:
        return None
    reason = f"the recipient's {_ADDRESS_NAMES[channel]} is unsubscribed from {category}"
    return ChannelDecision.suppress(channel, ReasonCode.UNSUBSCRIBED, reason)


def _own_opt_out(channel: Channel, s: _Situation) -> ChannelDecision | None:
    prefs = s.preferences
    if s.event_key in prefs.muted_event_keys:
        reason = f"{s.event_key} is muted by the recipient"
        return ChannelDecision.suppress(channel, ReasonCode.EVENT_MUTED, reason)
    if not prefs.channels.get(channel, True):
        reason = f"{channel} is switched off by the recipient"
        return ChannelDecision.suppress(channel, ReasonCode.CHANNEL_DISABLED, reason)
    category = event_category(s.event_key)
    # Per channel, the event key's rule wins; a channel it does not mention falls back to
    # the category's rule.
    for key, scope in ((s.event_key, s.event_key), (category, f"the {category} category")):
        switches = prefs.rules.get(key, {})
        if channel in switches:
            if switches[channel]:
                return None
            reason = f"{channel} is switched off for {scope} by the recipient"
            return ChannelDecision.suppress(channel, ReasonCode.RULE_DISABLED, reason)
    return None


def _missing_address(channel: Channel, s: _Situation) -> ChannelDecision | None:
    if channel in s.recipient.addresses:
        return None
    reason = f"the recipient has no {_ADDRESS_NAMES[channel]}"
    return ChannelDecision.suppress(channel, ReasonCode.NO_ADDRESS, reason)


def _digest(channel: Channel, s: _Situation) -> ChannelDecision | None:
    category = event_category(s.event_key)
    setting = s.preferences.digests.get(category)
    if setting is None or setting.frequency == DigestFrequency.IMMEDIATE:
        return None
    flush_at = digest_flush_time(setting, s.now, s.time_rules.zone)
    reason = (
        f"{category} notifications are collected into the recipient's {setting.frequency} digest"
    )
    return ChannelDecision.digest(channel, setting.frequency, flush_at, reason)


def _daily_cap(channel: Channel, s: _Situation) -> ChannelDecision | None:
    sent, cap = s.counts.reminders_sent_today, s.preferences.max_reminders_per_day
    if not s.is_reminder or sent < cap:
        return None
    noun = "reminder" if sent == 1 else "reminders"
    reason = f"{sent} {noun} already sent today (cap {cap})"
    return ChannelDecision.suppress(channel, ReasonCode.DAILY_CAP, reason)


def _rate_limit(channel: Channel, s: _Situation) -> ChannelDecision | None:
    limit = s.preferences.rate_limit
    sent = s.counts.sent_in_rate_window
    if limit is None or sent < limit.max_count:
        return None
    reason = (
        f"{sent} notifications sent in the last {limit.window_minutes} minutes "
        f"(limit {limit.max_count})"
    )
    frees_at = s.counts.rate_window_frees_at
    if frees_at is not None:
        frees_at = require_aware(frees_at, "rate_window_frees_at")
    if frees_at is None or frees_at <= s.now:
        # Nothing says when the window frees up, so there is no instant to wait for.
        return ChannelDecision.suppress(channel, ReasonCode.RATE_LIMIT, reason)
    # Wait for the window, then for whatever weekend or DND rule holds at that instant.
    cause = Hold(ReasonCode.RATE_LIMIT, reason, frees_at)
    return _from_hold(channel, s.time_rules.settle(frees_at, s.now, cause))
