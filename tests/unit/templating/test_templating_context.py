import pytest

from domain.templating import (
    DEFAULT_EMAIL_LAYOUT,
    notification_variables,
    sample_context,
    shipped_template,
)
from domain.templating.defaults import default_template

RECIPIENT = {
    "recipient_name": "Ana",
    "recipient_email": "ana@example.com",
    "recipient_timezone": "Europe/Berlin",
    "recipient_locale": "en",
}
BOOKING = {
    "start": "2025-06-02T14:00:00Z",
    "end": "2025-06-02T15:30:00+00:00",
    "organizer_timezone": "America/New_York",
}


def test_recipient_variables_are_defaults_the_context_may_override():
    assert notification_variables({}, **RECIPIENT)["recipient_name"] == "Ana"
    assert (
        notification_variables({"recipient_name": "Dr. Ana"}, **RECIPIENT)["recipient_name"]
        == "Dr. Ana"
    )


def test_custom_answers_are_flattened_without_overriding_explicit_values():
    context = {"custom_answers": {"Company size": "10", "Team": "Ops"}, "custom_team": "Sales"}
    variables = notification_variables(context, **RECIPIENT)
    assert (variables["custom_company_size"], variables["custom_team"]) == ("10", "Sales")


def test_booking_times_in_each_zone_and_the_recipients_locale():
    variables = notification_variables(BOOKING | {"start_time": "stale"}, **RECIPIENT)
    assert variables["start_time"] == "Monday, June 2, 2025, 10:00 AM EDT"
    assert variables["start_time_invitee"].startswith(
        "Monday, June 2, 2025, 4:00 PM"
    )  # recipient's zone
    assert variables["duration"] == "1 hour 30 minutes"
    portuguese = notification_variables(BOOKING, **RECIPIENT | {"recipient_locale": "pt-BR"})
    assert portuguese["start_time"].startswith("segunda-feira, 2 de junho de 2025")


def test_previous_start_is_formatted_too():
    variables = notification_variables(
        BOOKING | {"previous_start": "2025-05-30T13:00:00Z"}, **RECIPIENT
    )
    assert variables["previous_start_time"] == "Friday, May 30, 2025, 9:00 AM EDT"


def test_start_and_end_that_are_not_date_times_are_plain_variables():
    for start in ("9am", 9, None):
        variables = notification_variables(BOOKING | {"start": start}, **RECIPIENT)
        assert variables["start"] == start and "start_time" not in variables


def test_an_unknown_time_zone_is_an_error():
    with pytest.raises(ValueError, match="unknown time zone: 'Mars/Olympus'"):
        notification_variables(BOOKING | {"organizer_timezone": "Mars/Olympus"}, **RECIPIENT)


def test_a_context_with_its_own_message_is_sent_as_written(renderer):
    context = {"subject": "Payment received", "message": "We received 42.00 EUR."}
    email = renderer.render(
        shipped_template("payment.completed", "email", context), context, DEFAULT_EMAIL_LAYOUT
    )
    assert email.subject == "Payment received" and "We received 42.00 EUR." in email.text
    sms = renderer.render(
        shipped_template("booking.reminder", "sms", {"message": "See you"}), {"message": "See you"}
    )
    assert sms.body == "See you"
    untitled = renderer.render(
        shipped_template("payment.completed", "in_app", {"message": "Paid"}), {"message": "Paid"}
    )
    assert (untitled.title, untitled.body) == ("Payment completed", "Paid")


def test_without_a_message_the_events_default_is_used():
    assert shipped_template("payment.completed", "email", {"subject": "x"}) == default_template(
        "payment.completed", "email"
    )
    assert shipped_template("Not A Key", "email", {"message": "x"}) is None
    assert shipped_template("custom.thing", "fax", {"message": "x"}) is None


def test_sample_times_are_what_herald_formats_from_the_sample_start_and_end():
    for event_key in ("booking.confirmation", "booking.rescheduled"):
        sample = sample_context(event_key)
        variables = notification_variables(sample, **RECIPIENT | {"recipient_locale": "en"})
        assert {name: variables[name] for name in sample} == sample
