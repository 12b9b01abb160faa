"""Provider webhook payloads in Herald's terms, and the stats' rate definitions."""

from datetime import UTC, datetime

import pytest

from domain.delivery_stats import DeliveryFigures
from domain.provider_events import MalformedEvent, from_sendgrid, from_twilio, inbox_report
from domain.types import DeliveryStatus


@pytest.mark.parametrize(
    "twilio,herald",
    [
        ("queued", "sent"),
        ("accepted", "sent"),
        ("sending", "sent"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "opened"),
        ("undelivered", "failed"),
        ("failed", "failed"),
    ],
)
def test_twilio_statuses(twilio, herald):
    assert from_twilio({"MessageSid": "SM1", "MessageStatus": twilio}).status == herald


def test_twilio_failure_names_the_error_and_a_dead_number_is_invalid():
    event = from_twilio({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30006"})
    assert event.error == "twilio undelivered: error 30006 (landline or unreachable carrier)"
    assert event.invalid_address == "twilio error 30006: landline or unreachable carrier"


def test_twilio_unreachable_handset_fails_but_keeps_the_number():
    event = from_twilio({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30003"})
    assert event.status == DeliveryStatus.FAILED and event.invalid_address is None


def test_twilio_callback_without_sid_is_malformed():
    with pytest.raises(MalformedEvent):
        from_twilio({"MessageStatus": "sent"})


def sendgrid(kind: str, **fields) -> dict:
    return {
        "event": kind,
        "sg_event_id": "ev1",
        "sg_message_id": "abc123.filterdrecv-1.0",
        "timestamp": 1767225600,
        "herald_delivery_id": "d-1",
        **fields,
    }


def test_sendgrid_event_carries_both_references_and_its_time():
    event = from_sendgrid(sendgrid("delivered"))
    assert (event.message_id, event.delivery_id, event.event_id) == ("abc123", "d-1", "ev1")
    assert event.occurred_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert event.status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    "kind,status",
    [
        ("processed", "sent"),
        ("deferred", "sent"),
        ("delivered", "delivered"),
        ("open", "opened"),
        ("click", "clicked"),
        ("bounce", "bounced"),
        ("dropped", "failed"),
        ("spamreport", None),
        ("unsubscribe", None),
        ("group_resubscribe", None),
    ],
)
def test_sendgrid_statuses(kind, status):
    assert from_sendgrid(sendgrid(kind)).status == status


def test_only_spam_reports_and_unsubscribes_opt_out():
    assert from_sendgrid(sendgrid("spamreport")).opt_out
    assert from_sendgrid(sendgrid("unsubscribe")).opt_out
    assert not from_sendgrid(sendgrid("open")).opt_out
    assert not from_sendgrid(sendgrid("group_resubscribe")).known


@pytest.mark.parametrize(
    "kind,fields,invalid",
    [
        (
            "bounce",
            dict(type="bounce", reason="550 5.1.1 no such user"),
            "hard bounce: 550 5.1.1 no such user",
        ),
        ("bounce", dict(type="blocked", reason="550 IP listed"), None),
        ("bounce", dict(reason="no type given"), None),
        ("dropped", dict(reason="Bounced Address"), "dropped by sendgrid: Bounced Address"),
        ("dropped", dict(reason="Unsubscribed Address"), None),
    ],
)
def test_hard_bounces(kind, fields, invalid):
    assert from_sendgrid(sendgrid(kind, **fields)).invalid_address == invalid


def test_a_bounce_explains_itself():
    event = from_sendgrid(sendgrid("bounce", type="blocked", status="5.7.1", reason="blocked"))
    assert event.error == "sendgrid bounce: blocked; 5.7.1; blocked"


@pytest.mark.parametrize("kind,status", [("read", "opened"), ("clicked", "clicked")])
def test_the_inbox_reports_a_status_on_in_app_deliveries(kind, status):
    at = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    event = inbox_report(kind, at)
    assert (event.provider, event.status, event.occurred_at) == ("inbox", status, at)
    assert event.known and not event.opt_out and event.invalid_address is None


def test_sendgrid_event_without_a_name_is_malformed():
    with pytest.raises(MalformedEvent):
        from_sendgrid({"sg_event_id": "x"})


def test_rates_follow_the_readme():
    figures = DeliveryFigures(sent=80, delivered=60, opened=30, clicked=6, failed=5, bounced=15)
    assert figures.attempted == 100
    assert figures.rates() == {
        "delivery_rate": 0.6,
        "bounce_rate": 0.15,
        "open_rate": 0.5,
        "click_rate": 0.1,
    }


def test_rates_are_null_with_nothing_to_divide_by():
    assert set(DeliveryFigures().rates().values()) == {None}
