"""Consent: what a recipient agreed to receive, as a history of opt-ins and opt-outs.

A change of preferences is recorded as the consent it changes, worked out here from the
effective preferences before and after (the tenant's defaults overlaid with the recipient's
own), so a change that moves nothing records nothing, whoever stored it and however:

- a channel's master switch: one event for the channel, every scope (`scope` None);
- a rule (a category's or an event key's switch for a channel): one event for that scope and
  channel when what the rule decides changes. A rule removed gives way to the category's rule
  (for an event key) and then to "allowed" (domain/policy/decide.py reads them so), so removing
  a refusal is an opt-in and removing a permission with nothing behind it changes nothing;
- a muted event key: an opt-out of that key on every channel, unmuting an opt-in;
- the recipient's address taken off the suppression list (opting back in through the
  preferences clears it, db/opt_outs.py): an opt-in of the category on that channel, once.

An unsubscribe link, a spam report and a provider's unsubscribe are each an opt-out of one
category on one channel, recorded whenever they come: each is the person's own act.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.preferences import Preferences
from domain.types import Channel, event_category


class ConsentAction(StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


class ConsentSource(StrEnum):
    """Where a consent change came from."""

    API = "api"  # the tenant's preferences API (PUT/PATCH /v1/recipients/{id}/preferences)
    INBOX = "inbox"  # the recipient, through their inbox (PATCH /v1/inbox/preferences)
    DASHBOARD = "dashboard"  # an operator, on the dashboard's recipient page
    UNSUBSCRIBE_LINK = "unsubscribe_link"  # the one-click link of an email (RFC 8058)
    SPAM_REPORT = "spam_report"  # the recipient marked a message as spam (a provider said)
    PROVIDER_UNSUBSCRIBE = "provider_unsubscribe"  # the provider's own unsubscribe (its link)


# The providers' event names (domain/provider_events.py) that are a complaint: SendGrid's
# "spamreport", Mailgun's "complained", SES's "Complaint". Their other opt-outs (SendGrid's
# "unsubscribe", Mailgun's "unsubscribed") are the provider's own unsubscribe link.
SPAM_REPORT_KINDS = frozenset({"spamreport", "complained", "Complaint"})


def provider_opt_out_source(kind: str) -> ConsentSource:
    """The source of a provider event that opts the recipient out, from its kind."""
    if kind in SPAM_REPORT_KINDS:
        return ConsentSource.SPAM_REPORT
    return ConsentSource.PROVIDER_UNSUBSCRIBE


@dataclass(frozen=True)
class ConsentChange:
    """One opt-in or opt-out: of a channel (`channel`), of a category or event key (`scope`),
    or both; None in either means all of them."""

    action: ConsentAction
    channel: str | None = None
    scope: str | None = None


def opted_out_of(category: str, channel: str) -> ConsentChange:
    """An unsubscribe (a link, a provider's report): the category, on the channel."""
    return ConsentChange(ConsentAction.OPT_OUT, channel, category)


def _action(allowed: bool) -> ConsentAction:
    return ConsentAction.OPT_IN if allowed else ConsentAction.OPT_OUT


def rule_allows(preferences: Preferences, scope: str, channel: str) -> bool:
    """What the rules decide for `scope` (a category or event key) on `channel`: its own rule,
    else (an event key) its category's, else allowed."""
    for key in dict.fromkeys((scope, event_category(scope))):
        switches = preferences.rules.get(key, {})
        if channel in switches:
            return switches[Channel(channel)]
    return True


def consent_changes(
    before: Preferences,
    after: Preferences,
    unsubscribed_before: Iterable[tuple[str, str]] = (),
    unsubscribed_after: Iterable[tuple[str, str]] = (),
) -> list[ConsentChange]:
    """The consent changes between two effective preferences, in a stable order: channels,
    then rules (by scope, then channel), then muted event keys, then addresses taken off the
    suppression list. `unsubscribed_*`: the (channel, category) pairs the recipient's
    addresses are suppressed for (db/opt_outs.unsubscribed_addresses)."""
    changes = [
        ConsentChange(_action(after.channels.get(channel, True)), str(channel))
        for channel in Channel
        if before.channels.get(channel, True) != after.channels.get(channel, True)
    ]
    pairs = {
        (scope, str(channel))
        for rules in (before.rules, after.rules)
        for scope, switches in rules.items()
        for channel in switches
    }
    for scope, channel in sorted(pairs):
        allowed = rule_allows(after, scope, channel)
        if rule_allows(before, scope, channel) != allowed:
            changes.append(ConsentChange(_action(allowed), channel, scope))
    muted_before, muted_after = set(before.muted_event_keys), set(after.muted_event_keys)
    for key in sorted(muted_before ^ muted_after):
        changes.append(ConsentChange(_action(key in muted_before), None, key))
    cleared = set(unsubscribed_before) - set(unsubscribed_after)
    for channel, category in sorted(cleared):
        change = ConsentChange(ConsentAction.OPT_IN, channel, category)
        if change not in changes:
            changes.append(change)
    return changes
