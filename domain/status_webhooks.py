"""Outbound status webhooks: which events exist, what each message carries, when it is
attempted, and when Herald gives up on an endpoint.

- An event is a subject's status change: a delivery's (sent, delivered, failed, bounced,
  opened, clicked), a notification's (deferred), a broadcast's (completed). SUBJECT_EVENTS says
  which; the triggers of migration 0023 write the same statuses to `webhook_outbox` in the
  transaction of the change (tests/e2e/test_status_webhooks.py checks they agree).
- One message per event and subscribed endpoint, its id the `webhook-id` of every attempt and
  replay (receivers deduplicate on it). The payload is built at each attempt from the subject's
  CURRENT state, dated then: ordering is not promised, so a receiver compares `updated_at` and
  discards stale news.
- Attempts follow a schedule (the waits before each; DEFAULT_SCHEDULE_SECONDS: 8 attempts over
  about 28 hours). A 2xx delivers the message; anything else waits for the next attempt; after
  the last the message has failed.
- An endpoint failing for long is disabled (`should_disable`): when a message fails for good
  and nothing was delivered to the endpoint for `disable_after` (STATUS_WEBHOOK_DISABLE_AFTER_
  HOURS, 5 days by default) since its first failed attempt, it is disabled and an alert
  raised. The time, not a count of messages, decides: a busy endpoint down for an hour loses
  nothing and stays on; a quiet one is judged by how long it has been failing, not by how few
  events it had.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    DELIVERY_SENT = "delivery.sent"
    DELIVERY_DELIVERED = "delivery.delivered"
    DELIVERY_FAILED = "delivery.failed"
    DELIVERY_BOUNCED = "delivery.bounced"
    DELIVERY_OPENED = "delivery.opened"
    DELIVERY_CLICKED = "delivery.clicked"
    NOTIFICATION_DEFERRED = "notification.deferred"
    BROADCAST_COMPLETED = "broadcast.completed"


class Subject(StrEnum):
    """What an event is about: its outbox row's subject_id is this row's id."""

    DELIVERY = "delivery"
    NOTIFICATION = "notification"
    BROADCAST = "broadcast"


# The statuses of each subject that make an event: `<subject>.<status>`.
SUBJECT_EVENTS: dict[Subject, frozenset[str]] = {
    Subject.DELIVERY: frozenset({"sent", "delivered", "failed", "bounced", "opened", "clicked"}),
    Subject.NOTIFICATION: frozenset({"deferred"}),
    Subject.BROADCAST: frozenset({"completed"}),
}


def event_type_for(subject: Subject, status: str) -> EventType | None:
    """The event a subject entering `status` makes, if any."""
    return EventType(f"{subject}.{status}") if status in SUBJECT_EVENTS[subject] else None


def subject_of(event_type: str) -> Subject:
    return Subject(event_type.split(".", 1)[0])


def subscribes(event_types: list[str], event_type: str) -> bool:
    """An endpoint with no event types takes every one."""
    return not event_types or event_type in event_types


# The waits before each attempt, in seconds: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE_SECONDS = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_ATTEMPTS = 20
RESPONSE_BODY_CHARS = 2000  # of a receiver's answer, kept with the attempt


def parse_schedule(text: str) -> tuple[float, ...]:
    """STATUS_WEBHOOK_SCHEDULE_SECONDS: comma-separated waits (seconds, >= 0) before each
    attempt, 1 to MAX_ATTEMPTS of them; empty: DEFAULT_SCHEDULE_SECONDS. ValueError says what
    is wrong."""
    if not text.strip():
        return DEFAULT_SCHEDULE_SECONDS
    waits = []
    for part in text.split(","):
        try:
            wait = float(part)
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not a number of seconds") from None
        if not 0 <= wait <= 7 * 86400:
            raise ValueError(f"{part.strip()} is not between 0 and a week (604800) seconds")
        waits.append(wait)
    if len(waits) > MAX_ATTEMPTS:
        raise ValueError(f"at most {MAX_ATTEMPTS} attempts, not {len(waits)}")
    return tuple(waits)


# Workflow ids: `status-webhook-<message id>`, a replay's `...-replay-<n>`.
WORKFLOW_PREFIX = "status-webhook-"
REPLAY_MARK = "-replay-"


def workflow_id(message_id: uuid.UUID, replay: int = 0) -> str:
    return f"{WORKFLOW_PREFIX}{message_id}" + (f"{REPLAY_MARK}{replay}" if replay else "")


def replay_number(workflow_id: str) -> int:
    """0 for a message's first delivery; n for its n-th replay."""
    _, mark, number = workflow_id.partition(REPLAY_MARK)
    return int(number) if mark else 0


_MESSAGE_IDS = uuid.UUID("5b0a3c52-8f0e-4b1e-9a55-7d3c1e0f6a21")


def message_id(outbox_id: int, endpoint_id: uuid.UUID) -> uuid.UUID:
    """The same event and endpoint always make the same message (the webhook-id)."""
    return uuid.uuid5(_MESSAGE_IDS, f"{outbox_id}/{endpoint_id}")


def should_disable(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    """Whether an endpoint whose message just failed for good is to be disabled: nothing
    delivered to it since `failing_since` (its first failed attempt), for `disable_after`."""
    return failing_since is not None and now - failing_since >= disable_after


def delivered(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def payload(event_type: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"type": event_type, "timestamp": now.astimezone(UTC).isoformat(), "data": data}


def subject_data(
    subject: Subject, state: Mapping[str, Any] | None, subject_id: uuid.UUID
) -> dict[str, Any]:
    """The `data` of a payload: the subject's current state (db/status_webhooks.py reads it),
    JSON-ready. A subject gone (purged, erased) is named with a null status."""
    if state is None:
        return {f"{subject}_id": str(subject_id), "status": None}
    data: dict[str, Any] = {}
    for name, value in state.items():
        if name.startswith("recipient_"):
            recipient = data.setdefault("recipient", {})
            recipient[name.removeprefix("recipient_")] = _json(value)
        else:
            data[name] = _json(value)
    return data


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


# What crosses the Temporal boundary.


@dataclass(frozen=True)
class StatusWebhookInput:
    """A message's delivery: the workflow attempts it after each wait of `schedule_seconds`."""

    message_id: uuid.UUID
    tenant_id: uuid.UUID
    replay: int = 0
    schedule_seconds: list[float] = field(default_factory=lambda: list(DEFAULT_SCHEDULE_SECONDS))


@dataclass(frozen=True)
class StatusWebhookAttempt:
    message_id: uuid.UUID
    tenant_id: uuid.UUID
    attempt: int  # 1-based, within this run
    # The wait before the next attempt; None: this is the last (its failure fails the message).
    next_attempt_in_seconds: float | None


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"  # a 2xx: the message is delivered
    FAILED = "failed"  # no 2xx: the next attempt follows; after the last, the message failed
    STOPPED = "stopped"  # nothing sent: the endpoint is disabled or gone, or the message ended


@dataclass(frozen=True)
class FailedStatusWebhook:
    """A message that failed for good: its endpoint is judged by `should_disable`."""

    message_id: uuid.UUID
    tenant_id: uuid.UUID
