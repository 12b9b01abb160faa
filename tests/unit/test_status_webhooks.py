"""The pure rules of status webhooks (domain/status_webhooks.py)."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from config.settings import Settings
from domain.status_webhooks import (
    DEFAULT_SCHEDULE_SECONDS,
    EventType,
    Subject,
    event_type_for,
    message_id,
    parse_schedule,
    replay_number,
    should_disable,
    subject_data,
    subject_of,
    subscribes,
    workflow_id,
)


def test_the_default_schedule_is_eight_attempts_over_about_28_hours():
    assert parse_schedule("") == DEFAULT_SCHEDULE_SECONDS
    assert len(DEFAULT_SCHEDULE_SECONDS) == 8
    assert DEFAULT_SCHEDULE_SECONDS[0] == 0
    assert 27 * 3600 < sum(DEFAULT_SCHEDULE_SECONDS) < 28 * 3600


def test_a_schedule_setting_is_read_or_refused_saying_why():
    assert parse_schedule("0, 1,1.5") == (0.0, 1.0, 1.5)
    assert Settings(status_webhook_schedule_seconds="0,1,1").status_webhook_schedule() == (0, 1, 1)
    for bad, why in [
        ("0,soon", "'soon' is not a number"),
        ("0,-1", "-1 is not between 0"),
        ("0,1e9", "between 0 and a week"),
        (",".join(["1"] * 21), "at most 20 attempts"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_schedule(bad)
    with pytest.raises(ValidationError, match="status_webhook_schedule_seconds"):
        Settings(status_webhook_schedule_seconds="0,later")


def test_each_subject_status_makes_its_event_and_others_none():
    assert event_type_for(Subject.DELIVERY, "bounced") == EventType.DELIVERY_BOUNCED
    assert event_type_for(Subject.NOTIFICATION, "deferred") == EventType.NOTIFICATION_DEFERRED
    assert event_type_for(Subject.BROADCAST, "completed") == EventType.BROADCAST_COMPLETED
    for subject, status in [
        (Subject.DELIVERY, "pending"),
        (Subject.DELIVERY, "suppressed"),
        (Subject.NOTIFICATION, "sent"),
        (Subject.BROADCAST, "cancelled"),
    ]:
        assert event_type_for(subject, status) is None
    assert {subject_of(e) for e in EventType} == set(Subject)


def test_an_endpoint_without_event_types_takes_every_one():
    assert subscribes([], "delivery.sent")
    assert subscribes(["delivery.sent", "delivery.failed"], "delivery.failed")
    assert not subscribes(["delivery.failed"], "delivery.sent")


def test_ids_are_deterministic_and_a_replay_is_numbered():
    endpoint = uuid.uuid4()
    assert message_id(7, endpoint) == message_id(7, endpoint)
    assert len({message_id(7, endpoint), message_id(8, endpoint), message_id(7, uuid.uuid4())}) == 3
    message = message_id(7, endpoint)
    assert workflow_id(message) == f"status-webhook-{message}"
    assert workflow_id(message, 3) == f"status-webhook-{message}-replay-3"
    assert replay_number(workflow_id(message)) == 0
    assert replay_number(workflow_id(message, 3)) == 3


def test_an_endpoint_is_disabled_only_once_it_has_failed_for_long_enough():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    five_days = timedelta(days=5)
    assert not should_disable(None, now, five_days)  # its last message was delivered
    assert not should_disable(now - timedelta(days=4, hours=23), now, five_days)
    assert should_disable(now - five_days, now, five_days)
    assert should_disable(now, now, timedelta(0))  # 0: the first message failing for good


def test_a_payloads_data_is_the_subjects_state_as_json():
    subject_id = uuid.uuid4()
    recipient = uuid.uuid4()
    paris = timezone(timedelta(hours=2))
    state = {
        "delivery_id": subject_id,
        "status": "delivered",
        "recipient_id": recipient,
        "recipient_external_id": "u-1",
        "sent_at": datetime(2026, 6, 1, 14, tzinfo=paris),
        "opened_at": None,
    }
    assert subject_data(Subject.DELIVERY, state, subject_id) == {
        "delivery_id": str(subject_id),
        "status": "delivered",
        "recipient": {"id": str(recipient), "external_id": "u-1"},
        "sent_at": "2026-06-01T12:00:00+00:00",
        "opened_at": None,
    }
    # A subject purged or erased since: named, with no status.
    assert subject_data(Subject.BROADCAST, None, subject_id) == {
        "broadcast_id": str(subject_id),
        "status": None,
    }
