"""domain.consent: a preferences change as the consent it changes (opt-ins and opt-outs per
channel, category or event key), read on the effective preferences before and after."""

from hypothesis import given
from hypothesis import strategies as st

from domain.consent import (
    ConsentAction,
    ConsentChange,
    ConsentSource,
    consent_changes,
    provider_opt_out_source,
    rule_allows,
)
from domain.preferences import Preferences
from domain.types import Channel

IN, OUT = ConsentAction.OPT_IN, ConsentAction.OPT_OUT


def prefs(**fields) -> Preferences:
    return Preferences.model_validate(fields)


def test_no_change_records_nothing():
    same = prefs(rules={"marketing": {"email": False}}, muted_event_keys=["booking.reminder"])
    assert consent_changes(same, same) == []
    # Settings that are not consent (quiet hours, digests, timezone) record nothing either.
    other = prefs(
        rules={"marketing": {"email": False}},
        muted_event_keys=["booking.reminder"],
        dnd={"enabled": True},
        digests={"marketing": {"frequency": "daily"}},
        timezone="Europe/Paris",
    )
    assert consent_changes(same, other) == []


def test_a_channel_switched_off_and_on():
    on, off = prefs(), prefs(channels={"sms": False})
    assert consent_changes(on, off) == [ConsentChange(OUT, "sms", None)]
    assert consent_changes(off, on) == [ConsentChange(IN, "sms", None)]


def test_each_channel_changed_is_one_event_in_channel_order():
    before = prefs(channels={"email": False})
    after = prefs(channels={"email": True, "push": False, "chat": False})
    assert consent_changes(before, after) == [
        ConsentChange(IN, "email"),
        ConsentChange(OUT, "push"),
        ConsentChange(OUT, "chat"),
    ]


def test_a_rule_added_changed_and_removed():
    none = prefs()
    off = prefs(rules={"marketing": {"email": False}})
    on = prefs(rules={"marketing": {"email": True}})
    assert consent_changes(none, off) == [ConsentChange(OUT, "email", "marketing")]
    assert consent_changes(off, on) == [ConsentChange(IN, "email", "marketing")]
    # Removing a refusal: the scope follows "allowed" again, an opt-in.
    assert consent_changes(off, none) == [ConsentChange(IN, "email", "marketing")]
    # Removing a permission with nothing behind it changes nothing.
    assert consent_changes(on, none) == []


def test_an_event_key_rule_falls_back_to_its_category():
    category_off = {"booking": {"sms": False}}
    before = prefs(rules=category_off | {"booking.reminder": {"sms": True}})
    after = prefs(rules=category_off)
    # The reminder's own permission removed: it follows the category's refusal now.
    assert consent_changes(before, after) == [ConsentChange(OUT, "sms", "booking.reminder")]
    assert rule_allows(after, "booking.reminder", "sms") is False
    assert rule_allows(after, "booking.reminder", "email") is True


def test_a_category_rule_is_one_event_for_the_category_only():
    before = prefs(rules={"booking.reminder": {"email": False}})
    after = prefs(rules={"booking.reminder": {"email": False}, "booking": {"email": False}})
    assert consent_changes(before, after) == [ConsentChange(OUT, "email", "booking")]


def test_several_rules_in_order_of_scope_then_channel():
    before = prefs(rules={"marketing": {"sms": False}})
    after = prefs(rules={"news": {"email": False}, "marketing": {"email": False, "sms": True}})
    assert consent_changes(before, after) == [
        ConsentChange(OUT, "email", "marketing"),
        ConsentChange(IN, "sms", "marketing"),
        ConsentChange(OUT, "email", "news"),
    ]


def test_muting_and_unmuting_an_event_key():
    before = prefs(muted_event_keys=["booking.follow_up"])
    after = prefs(muted_event_keys=["marketing.weekly"])
    assert consent_changes(before, after) == [
        ConsentChange(IN, None, "booking.follow_up"),
        ConsentChange(OUT, None, "marketing.weekly"),
    ]


def test_an_address_taken_off_the_suppression_list_is_an_opt_in_once():
    off = prefs(rules={"booking": {"email": False}})
    on = prefs(rules={"booking": {"email": True}})
    suppressed = [("email", "booking")]
    # Rule and suppression say the same: one event.
    assert consent_changes(off, on, suppressed, []) == [ConsentChange(IN, "email", "booking")]
    # Another recipient's unsubscribe suppressed the shared address; this one's explicit
    # switch on lifts it, though their own rule changes nothing that they decide.
    assert consent_changes(on, on, suppressed, []) == [ConsentChange(IN, "email", "booking")]
    assert consent_changes(on, on, suppressed, suppressed) == []


def test_provider_opt_outs_by_kind():
    for kind in ("spamreport", "complained", "Complaint"):
        assert provider_opt_out_source(kind) == ConsentSource.SPAM_REPORT
    for kind in ("unsubscribe", "unsubscribed"):
        assert provider_opt_out_source(kind) == ConsentSource.PROVIDER_UNSUBSCRIBE


_switches = st.dictionaries(st.sampled_from(list(Channel)), st.booleans(), max_size=3)
_preferences = st.builds(
    lambda channels, rules, muted: prefs(
        channels=channels, rules=rules, muted_event_keys=sorted(muted)
    ),
    _switches,
    st.dictionaries(st.sampled_from(["booking", "booking.reminder", "news"]), _switches),
    st.sets(st.sampled_from(["booking.reminder", "news.weekly"])),
)


@given(_preferences, _preferences)
def test_every_event_moves_what_it_names_the_way_it_says(before, after):
    """Each change reported is real (the decision for its channel or scope differs, and in
    its direction), and no real change goes unreported."""
    changes = consent_changes(before, after)
    for change in changes:
        allowed = change.action == IN
        if change.scope is None:
            assert after.channels.get(change.channel, True) is allowed
            assert before.channels.get(change.channel, True) is not allowed
        elif change.channel is None:
            assert (change.scope not in after.muted_event_keys) is allowed
        else:
            assert rule_allows(after, change.scope, change.channel) is allowed
            assert rule_allows(before, change.scope, change.channel) is not allowed
    named = {(c.channel, c.scope) for c in changes}
    for channel in Channel:
        if before.channels.get(channel, True) != after.channels.get(channel, True):
            assert (str(channel), None) in named
    assert {(None, k) for k in set(before.muted_event_keys) ^ set(after.muted_event_keys)} <= named
    assert len(named) == len(changes)  # one event per thing changed
