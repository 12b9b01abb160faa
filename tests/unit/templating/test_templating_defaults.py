import pytest

from domain.templating import (
    DEFAULT_EMAIL_LAYOUT,
    TemplateSource,
    default_template,
    sample_context,
    validate_layout,
    validate_template,
)
from domain.templating.defaults import DEFAULT_TEMPLATES
from domain.templating.fallbacks import GENERIC_FALLBACK, TIME_FALLBACK

EVENT_KEYS = [
    "booking.confirmation", "booking.reminder", "booking.cancellation", "booking.rescheduled",
    "booking.follow_up", "daily_agenda", "payment.completed", "payment.failed", "payment.refunded",
    "herald.operator_invite", "herald.password_reset",
]  # fmt: skip
CHANNELS = ["email", "sms", "in_app", "push", "chat", "webhook"]


def shipped(event_key: str, channel: str) -> TemplateSource:
    """The shipped template, which every valid event key has for every channel."""
    source = default_template(event_key, channel)
    assert source is not None, f"no default {channel} template for {event_key}"
    return source


def test_every_event_key_has_defaults():
    assert sorted(DEFAULT_TEMPLATES) == sorted(EVENT_KEYS)


def test_default_layout_is_valid():
    assert validate_layout(DEFAULT_EMAIL_LAYOUT) == []


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("event_key", [*EVENT_KEYS, "report.ready"])
def test_defaults_validate_and_render_sample_data_without_fallbacks(renderer, event_key, channel):
    source = shipped(event_key, channel)

    assert source.event_key == event_key and source.locale == "en"
    assert validate_template(source, DEFAULT_EMAIL_LAYOUT) == []
    rendered = renderer.render(source, sample_context(event_key), DEFAULT_EMAIL_LAYOUT)

    for value in vars(rendered).values():
        if isinstance(value, str):
            assert GENERIC_FALLBACK not in value and TIME_FALLBACK not in value, value


@pytest.mark.parametrize("event_key", [*EVENT_KEYS, "report.ready"])
def test_default_sms_is_short(renderer, event_key):
    sms = renderer.render(default_template(event_key, "sms"), sample_context(event_key))
    assert sms.info.encoding == "GSM-7"
    assert sms.info.segments <= 2


def test_default_emails_compile_without_per_render_work(renderer):
    for event_key in EVENT_KEYS:
        compiled = renderer.compiled(default_template(event_key, "email"), DEFAULT_EMAIL_LAYOUT)
        assert not compiled.inlines_css_per_render and not compiled.derives_text_per_render


def test_confirmation_email_tells_the_invitee_what_they_need(renderer):
    context = sample_context("booking.confirmation")
    email = renderer.render(
        default_template("booking.confirmation", "email"), context, DEFAULT_EMAIL_LAYOUT
    )

    assert email.subject == "Confirmed: Intro call with Jordan Lee"
    for part in (email.html, email.text):
        assert context["start_time_invitee"] in part  # the invitee's own zone
        assert context["start_time"] not in part
        assert context["meeting_link"] in part
        assert context["reschedule_url"] in part and context["cancel_url"] in part
        assert context["unsubscribe_url"] in part
    assert "Reschedule (https://book.example.com/b/bk_7Hq2Lx/reschedule)" in email.text
    assert "@media" in email.html and 'style="' in email.html


def test_optional_parts_disappear_when_missing(renderer):
    context = sample_context("booking.confirmation")
    for name in (
        "meeting_link",
        "reschedule_url",
        "cancel_url",
        "unsubscribe_url",
        "organization_name",
    ):
        del context[name]
    email = renderer.render(
        default_template("booking.confirmation", "email"), context, DEFAULT_EMAIL_LAYOUT
    )

    assert "N/A" not in email.html and "N/A" not in email.text
    assert "Join the meeting" not in email.text and "Unsubscribe" not in email.text
    assert "\n\n\n" not in email.text


def test_payment_defaults_show_amount_currency_and_receipt(renderer):
    context = sample_context("payment.completed")
    email = renderer.render(default_template("payment.completed", "email"), context)
    assert "49.00 USD" in email.subject
    assert context["receipt_url"] in email.html


def test_agenda_lists_every_booking(renderer):
    context = sample_context("daily_agenda")
    email = renderer.render(default_template("daily_agenda", "email"), context)
    assert "2 bookings" in email.subject
    for booking in context["bookings"]:
        assert booking["event_name"] in email.text and booking["start_time"] in email.text
    one = renderer.render(
        default_template("daily_agenda", "in_app"), context | {"bookings": context["bookings"][:1]}
    )
    assert "1 booking on" in one.body


def test_generic_default_uses_title_and_message(renderer):
    source = default_template("invoice.overdue", "email")
    email = renderer.render(source, {"message": "Please pay."})
    assert email.subject == "Notification"  # its own fallback for a missing title
    assert "Please pay." in email.text


def test_no_default_for_invalid_input():
    assert default_template("Not A Key", "email") is None
    assert default_template("booking.confirmation", "fax") is None


def test_version_ids_are_stable_and_distinct():
    ids = {shipped(key, channel).version_id for key in EVENT_KEYS for channel in CHANNELS}
    assert len(ids) == len(EVENT_KEYS) * len(CHANNELS)
    assert default_template("booking.reminder", "sms") == default_template(
        "booking.reminder", "sms"
    )
