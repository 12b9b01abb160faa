import json

from domain.templating import catalogue, flatten_custom_answers, sample_context
from domain.templating.defaults import DEFAULT_TEMPLATES


def test_catalogue_is_json_serialisable_and_documented():
    entries = catalogue()
    json.dumps(entries)
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names))
    for entry in entries:
        assert set(entry) == {"name", "description", "example", "event_keys"}
        assert entry["description"] and entry["event_keys"]


def test_catalogue_covers_the_documented_variables():
    names = {entry["name"] for entry in catalogue()}
    documented = {
        "booking_id", "invitee_name", "invitee_email", "invitee_phone", "invitee_timezone",
        "organizer_name", "organizer_email", "event_name", "event_description", "duration",
        "start_time", "end_time", "start_time_invitee", "end_time_invitee", "meeting_link",
        "meeting_id", "meeting_password", "cancellation_reason", "booking_url", "reschedule_url",
        "cancel_url", "custom_answers", "custom_<key>", "amount", "currency", "payment_id",
        "payment_method", "failure_reason", "refund_amount", "receipt_url", "customer_name",
        "agenda_date", "bookings", "recipient_name", "recipient_email", "unsubscribe_url",
    }  # fmt: skip
    assert documented <= names


def test_sample_context_is_per_event():
    cancellation = sample_context("booking.cancellation")
    confirmation = sample_context("booking.confirmation")
    refund = sample_context("payment.refunded")

    assert "cancellation_reason" in cancellation
    assert "cancellation_reason" not in confirmation
    assert "refund_amount" in refund and "invitee_name" not in refund
    assert confirmation["custom_company"] == "Acme GmbH"  # custom answers, flattened
    assert "unsubscribe_url" in sample_context("anything.custom")


def test_sample_context_returns_fresh_copies():
    sample_context("daily_agenda")["bookings"].clear()
    assert sample_context("daily_agenda")["bookings"]


def test_every_default_event_has_sample_data():
    for event_key in DEFAULT_TEMPLATES:
        assert len(sample_context(event_key)) > 7


def test_flatten_custom_answers():
    flattened = flatten_custom_answers({"Company size": "10", "What's up?": "hi", "!!!": "x"})
    assert flattened == {"custom_company_size": "10", "custom_what_s_up": "hi"}
