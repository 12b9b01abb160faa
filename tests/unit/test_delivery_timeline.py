"""A delivery's timeline from Herald's records (domain/delivery_timeline.py): each step it
reached, with what was recorded about it, oldest first."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from domain.delivery_timeline import (
    WORKFLOW,
    DeliveryFacts,
    TimelineEntry,
    herald_timeline,
    in_time_order,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def facts(**changes) -> DeliveryFacts:
    base = DeliveryFacts(
        notification_created_at=T0,
        send_at=None,
        channel="email",
        status="pending",
        status_reason=None,
        provider=None,
        provider_message_id=None,
        address="ada@example.com",
        error=None,
        retry_count=0,
        deferred_until=None,
        sent_at=None,
        delivered_at=None,
        opened_at=None,
        clicked_at=None,
        failed_at=None,
        provider_response=None,
        failover_log=None,
        created_at=T0,
        updated_at=T0,
    )
    return dataclasses.replace(base, **changes)


def titles(entries: list[TimelineEntry]) -> list[str]:
    return [entry.title for entry in entries]


def test_every_step_an_email_reached_in_order_with_the_providers_answer():
    entries = herald_timeline(
        facts(
            status="clicked",
            provider="sendgrid",
            provider_message_id="sg-1",
            provider_response={"status": 202},
            retry_count=1,
            sent_at=at(2),
            delivered_at=at(9),
            opened_at=at(3600),
            clicked_at=at(3660),
            failover_log=[
                {
                    "provider": "smtp",
                    "moved_to": "sendgrid",
                    "reason": "smtp: connection refused",
                    "at": at(1).isoformat(),
                }
            ],
        )
    )
    assert titles(entries) == [
        "Accepted",
        "Failed over from smtp to sendgrid",
        "Sent via sendgrid",
        "Delivered",
        "Opened",
        "Clicked",
    ]
    sent = entries[2]
    assert sent.detail == "message id sg-1; status: 202; after 1 retry"
    assert sent.tone == "ok" and entries[1].tone == "warn"
    assert entries[1].detail == "smtp: connection refused"


def test_a_deferral_shows_its_start_and_end_with_the_reason():
    entries = herald_timeline(
        facts(status="deferred", status_reason="quiet hours", deferred_until=at(8 * 3600))
    )
    assert titles(entries) == ["Accepted", "Deferred until", "Deferral ends"]
    assert entries[2].at == at(8 * 3600) and entries[2].detail == "quiet hours"


def test_a_failure_says_why_what_the_provider_answered_and_after_how_many_attempts():
    failed = herald_timeline(
        facts(
            status="failed",
            error="twilio 21211: invalid To number",
            provider_response={"code": 21211},
            retry_count=3,
            failed_at=at(40),
        )
    )
    assert failed[-1].title == "Failed" and failed[-1].tone == "bad"
    assert failed[-1].detail == "twilio 21211: invalid To number; code: 21211; after 3 attempt(s)"
    bounced = herald_timeline(
        facts(status="bounced", error="hard bounce", sent_at=at(2), failed_at=at(60))
    )
    assert titles(bounced)[-1] == "Bounced" and bounced[-1].detail == "hard bounce"


def test_statuses_without_a_time_of_their_own_are_placed_when_the_row_last_changed():
    for status, title in (
        ("suppressed", "Suppressed"),
        ("cancelled", "Cancelled"),
        ("digested", "Added to the recipient's digest"),
    ):
        entries = herald_timeline(facts(status=status, status_reason="why", updated_at=at(5)))
        assert entries[-1].title == title and entries[-1].at == at(5), status
        assert entries[-1].detail == "why"


def test_resends_both_ways_an_in_app_read_and_a_scheduled_time():
    original = uuid.uuid4()
    later = uuid.uuid4()
    entries = herald_timeline(
        facts(
            channel="in_app",
            status="sent",
            send_at=at(600),
            created_at=at(700),
            sent_at=at(701),
            read_at=at(900),
            archived_at=at(950),
            resent_from_id=original,
            resent_as=[(later, at(1000), "pending")],
        )
    )
    assert titles(entries) == [
        "Accepted",
        "Scheduled for",
        "Resent",
        "Sent",
        "Read",
        "Archived",
        "Resent as a new delivery",
    ]
    assert str(original) in entries[2].detail
    assert entries[-1].detail == f"{later} (pending)"


def test_workflow_steps_merge_by_time_and_steps_without_a_time_come_last():
    herald = herald_timeline(facts(status="sent", provider="smtp", sent_at=at(2)))
    workflow = [
        TimelineEntry(at(1), "Workflow started", source=WORKFLOW),
        TimelineEntry(at(3), "Workflow completed", source=WORKFLOW),
    ]
    untimed = TimelineEntry(None, "Failed over from a to b")
    merged = in_time_order([untimed, *herald, *workflow])
    assert titles(merged) == [
        "Accepted",
        "Workflow started",
        "Sent via smtp",
        "Workflow completed",
        "Failed over from a to b",
    ]
