"""Notice keys and context, event payload validation, and the maintenance jobs' pure rules."""

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from api.schemas.events import BookingPayload
from domain.booking_contracts import BookingDetails, Person
from domain.booking_notices import booking_context, contact_external_id, reminder_notice
from domain.maintenance import hour_of, over_threshold, retry_key


def test_a_notice_carries_the_booking_fields_without_empty_ones():
    booking = BookingDetails(
        "bk1",
        Person("Ada", "ada@x.com", id="org-1"),
        Person(None, None, "+14155550123"),
        datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 5, 9, 30, tzinfo=UTC),
        meeting_link=None,
    )
    context = booking_context(booking)
    assert context["owner_id"] == "org-1" and context["start"] == "2026-03-05T09:00:00+00:00"
    assert (
        "meeting_link" not in context
        and "invitee_name" not in context
        and "custom_answers" not in context
    )
    notice = reminder_notice(uuid.UUID(int=1), booking, 0.5)
    assert notice.recipient_external_id == "phone:+14155550123"
    assert notice.idempotency_key == "booking-bk1-reminder-0.5-20260305T090000Z"
    assert (
        notice.context["reminder_minutes_before"] == 0.5 and notice.context["audience"] == "invitee"
    )
    assert contact_external_id(Person(email="g@x.com")) == "email:g@x.com"


def payload(**change) -> dict:
    return {
        "booking_id": "bk1",
        "organizer": {"id": "org-1", "email": "ada@x.com", "timezone": "America/New_York"},
        "invitee": {"email": "g@x.com"},
        "start": "2026-03-05T09:00:00+01:00",
        "end": "2026-03-05T09:30:00+01:00",
        "unknown_future_field": True,
        **change,
    }


@pytest.mark.parametrize(
    "change, field",
    [
        ({"end": "2026-03-05T08:00:00+01:00"}, ("end",)),
        ({"start": "2026-03-05T09:00:00"}, ("start",)),
        ({"booking_id": "has space"}, ("booking_id",)),
        ({"invitee": {"phone": "0151 123"}}, ("invitee", "phone")),
        ({"organizer": {"id": "org-1", "email": "not-an-email"}}, ("organizer", "email")),
        ({"cancel_url": "javascript:alert(1)"}, ("cancel_url",)),
    ],
)
def test_booking_payload_errors_name_their_field(change, field):
    with pytest.raises(ValidationError) as raised:
        BookingPayload.model_validate(payload(**change))
    assert raised.value.errors()[0]["loc"] == field


def test_a_valid_payload_ignores_unknown_fields():
    assert BookingPayload.model_validate(payload()).invitee.timezone == "UTC"


def test_retry_keys_chain_from_the_first_notification_up_to_the_budget():
    first = str(uuid.uuid4())
    assert retry_key("order-1", first, "email", budget=2) == f"retry1-email-{first}"
    assert (
        retry_key(f"retry1-email-{first}", str(uuid.uuid4()), "email", budget=2)
        == f"retry2-email-{first}"
    )
    assert retry_key(f"retry2-email-{first}", str(uuid.uuid4()), "email", budget=2) is None
    assert retry_key("order-1", first, "sms", budget=0) is None


def test_failure_rates_alert_only_with_enough_deliveries():
    assert over_threshold(total=20, failed=5, threshold=0.25, min_deliveries=20)
    assert not over_threshold(total=20, failed=4, threshold=0.25, min_deliveries=20)
    assert not over_threshold(total=3, failed=3, threshold=0.25, min_deliveries=20)
    assert hour_of(datetime(2026, 3, 5, 9, 41, 7, tzinfo=UTC)) == datetime(
        2026, 3, 5, 9, tzinfo=UTC
    )
