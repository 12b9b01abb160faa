"""Which channels a notification goes to, and which of them the recipient opted out of."""

from domain.preferences import PreferredMethod, Preferences
from domain.types import Channel, event_category

_PREFERRED = {
    PreferredMethod.EMAIL: [Channel.EMAIL],
    PreferredMethod.SMS: [Channel.SMS],
    PreferredMethod.BOTH: [Channel.EMAIL, Channel.SMS],
}


def requested_channels(explicit: list[str] | None, prefs: Preferences) -> list[Channel]:
    if explicit:
        return [Channel(c) for c in dict.fromkeys(explicit)]
    return list(_PREFERRED[prefs.preferred_method])


def opt_out_reason(channel: Channel, event_key: str, prefs: Preferences) -> str | None:
    """Why the recipient does not want this channel for this event, or None if they do."""
    if event_key in prefs.muted_event_keys:
        return f"event {event_key} is muted by the recipient"
    if not prefs.channels.get(channel, True):
        return f"{channel} is switched off by the recipient"
    for key in (event_key, event_category(event_key)):  # the event key's rule wins
        rule = prefs.rules.get(key)
        if rule is not None and channel in rule:
            return None if rule[channel] else f"{channel} is switched off for {key} by the recipient"
    return None


def missing_address_reason(channel: Channel, email: str | None, phone: str | None) -> str | None:
    if channel == Channel.EMAIL and not email:
        return "the recipient has no email address"
    if channel == Channel.SMS and not phone:
        return "the recipient has no phone number"
    if channel == Channel.PUSH:
        return "no push provider is configured"
    return None
