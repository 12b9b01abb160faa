"""SES events (as SNS carries them) in Herald's terms: domain.provider_events.from_ses."""

import json
from datetime import UTC, datetime

import pytest

from domain.provider_events import MalformedEvent, from_ses
from domain.types import DeliveryStatus
from tests.utils.sns import ses_event

DELIVERY_ID = "6f1c2a34-0000-4000-8000-000000000001"


def event(event_type: str, **detail) -> dict:
    return json.loads(ses_event(event_type, message_id="ses-1", delivery_id=DELIVERY_ID, **detail))


def test_a_delivery_names_its_message_delivery_and_time():
    parsed = from_ses(event("Delivery", smtpResponse="250 ok"), "sns-1")
    assert parsed.provider == "ses" and parsed.kind == "Delivery"
    assert (parsed.message_id, parsed.delivery_id, parsed.event_id) == (
        "ses-1",
        DELIVERY_ID,
        "sns-1",
    )
    assert parsed.status == DeliveryStatus.DELIVERED
    assert parsed.occurred_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert parsed.payload["delivery"]["smtpResponse"] == "250 ok"


@pytest.mark.parametrize(
    "event_type,status",
    [
        ("Send", DeliveryStatus.SENT),
        ("DeliveryDelay", DeliveryStatus.SENT),
        ("Open", DeliveryStatus.OPENED),
        ("Click", DeliveryStatus.CLICKED),
    ],
)
def test_statuses(event_type, status):
    assert from_ses(event(event_type)).status == status


def test_a_permanent_bounce_bounces_and_the_address_is_dead():
    parsed = from_ses(
        event(
            "Bounce",
            bounceType="Permanent",
            bounceSubType="General",
            bouncedRecipients=[
                {
                    "emailAddress": "ada@example.com",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        )
    )
    assert parsed.status == DeliveryStatus.BOUNCED
    assert parsed.error == "ses bounce: Permanent/General; 5.1.1; smtp; 550 5.1.1 user unknown"
    assert parsed.invalid_address == "hard bounce: smtp; 550 5.1.1 user unknown"


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_other_bounces_are_ignored(bounce_type):
    parsed = from_ses(event("Bounce", bounceType=bounce_type, bounceSubType="MailboxFull"))
    assert parsed.status is None and parsed.invalid_address is None and not parsed.known


def test_a_complaint_opts_out_unless_it_says_not_spam():
    complaint = from_ses(event("Complaint", complaintFeedbackType="abuse"))
    assert complaint.opt_out and complaint.status is None and complaint.known
    assert not from_ses(event("Complaint", complaintFeedbackType="not-spam")).known


def test_a_reject_fails_with_its_reason():
    parsed = from_ses(event("Reject", reason="Bad content"))
    assert parsed.status == DeliveryStatus.FAILED and parsed.error == "ses reject: Bad content"


def test_an_identity_notification_reads_as_an_event():
    body = event("Delivery")
    body["notificationType"] = body.pop("eventType")
    assert from_ses(body).status == DeliveryStatus.DELIVERED


def test_without_the_tag_it_matches_by_message_id():
    parsed = from_ses(json.loads(ses_event("Delivery", message_id="ses-2")))
    assert (parsed.message_id, parsed.delivery_id) == ("ses-2", None)


def test_event_types_herald_does_not_act_on_are_not_known():
    assert not from_ses(event("Subscription")).known


@pytest.mark.parametrize("body", [[], {"mail": {}}, {"eventType": "Delivery"}])
def test_malformed_events(body):
    with pytest.raises(MalformedEvent):
        from_ses(body)
