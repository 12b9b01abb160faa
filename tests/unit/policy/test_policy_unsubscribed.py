"""An address unsubscribed from a category on a channel gets nothing of it there, whatever
the recipient's own rules say, even urgent; other categories and channels are untouched."""

from datetime import UTC, datetime

from domain.policy import Notification, ReasonCode, Recipient, decide
from domain.preferences import Preferences
from domain.types import Channel, Priority

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def ada(**preferences) -> Recipient:
    return Recipient(
        Preferences.model_validate(preferences),
        addresses=frozenset(Channel),
        unsubscribed={("email", "booking")},
    )


def test_the_unsubscribed_category_is_suppressed_on_that_channel_only():
    decision = decide(
        Notification("booking.reminder", Priority.URGENT, ["email", "sms"]), ada(), NOW
    )
    email, sms = decision.channels
    assert (email.code, email.reason) == (
        ReasonCode.UNSUBSCRIBED,
        "the recipient's email address is unsubscribed from booking",
    )
    assert sms.code is None
    other = decide(Notification("marketing.promo", channels=["email"]), ada(), NOW)
    assert other.channels[0].code is None


def test_the_recipients_own_rule_does_not_switch_it_back_on():
    recipient = ada(rules={"booking.reminder": {"email": True}, "booking": {"email": True}})
    decision = decide(Notification("booking.reminder", channels=["email"]), recipient, NOW)
    assert decision.channels[0].code == ReasonCode.UNSUBSCRIBED


def test_a_digest_of_the_category_is_suppressed_too():
    decision = decide(Notification("digest.booking", channels=["email"]), ada(), NOW)
    assert decision.channels[0].code == ReasonCode.UNSUBSCRIBED
