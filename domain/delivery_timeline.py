"""A delivery's timeline as the dashboard shows it: what Herald recorded about it (accepted,
deferred, each step reached, the provider's answer, failover, resends), and what its workflow's
history adds (activities, timers, signals), in time order. Pure: the records come in as values."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HERALD = "herald"  # from Herald's tables
WORKFLOW = "workflow"  # from the workflow's history in Temporal


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | None  # None: recorded without a time; listed last
    title: str
    detail: str = ""  # the provider's answer, an error, a duration
    tone: str = ""  # ok, warn, bad or "" (neutral): the entry's colour, beside its words
    source: str = HERALD


@dataclass(frozen=True)
class DeliveryFacts:
    """What Herald's tables hold about one delivery and its notification."""

    notification_created_at: datetime
    send_at: datetime | None  # the time the notification was asked to go out
    channel: str
    status: str
    status_reason: str | None
    provider: str | None
    provider_message_id: str | None
    address: str | None
    error: str | None
    retry_count: int
    deferred_until: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    failed_at: datetime | None
    provider_response: dict[str, Any] | None
    failover_log: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime
    resent_from_id: Any = None  # the delivery this one repeats
    resent_as: list[tuple[Any, datetime, str]] = field(default_factory=list)  # (id, at, status)
    read_at: datetime | None = None  # in-app: the recipient read it
    archived_at: datetime | None = None  # in-app: the recipient archived it


# Statuses with no time of their own: entered when the row last changed.
_SETTLED_WITHOUT_TIME = {
    "cancelled": ("Cancelled", ""),
    "suppressed": ("Suppressed", "warn"),
    "digested": ("Added to the recipient's digest", ""),
}


def herald_timeline(facts: DeliveryFacts) -> list[TimelineEntry]:
    """Herald's own records of the delivery, in time order."""
    entries = [TimelineEntry(facts.notification_created_at, "Accepted", "the notification")]
    if facts.resent_from_id is not None:
        entries.append(
            TimelineEntry(facts.created_at, "Resent", f"repeats delivery {facts.resent_from_id}")
        )
    elif facts.created_at != facts.notification_created_at:
        entries.append(TimelineEntry(facts.created_at, "Planned", f"the {facts.channel} delivery"))
    if facts.send_at is not None:
        entries.append(TimelineEntry(facts.send_at, "Scheduled for", "the time it was asked for"))
    if facts.deferred_until is not None:
        why = facts.status_reason or ""
        entries.append(TimelineEntry(facts.created_at, "Deferred until", why, "warn"))
        entries.append(TimelineEntry(facts.deferred_until, "Deferral ends", why, "warn"))
    for moved in facts.failover_log or []:
        entries.append(_failover(moved))
    if facts.sent_at is not None:
        entries.append(
            TimelineEntry(
                facts.sent_at,
                f"Sent via {facts.provider}" if facts.provider else "Sent",
                _response(facts),
                "ok",
            )
        )
    for at, title in (
        (facts.delivered_at, "Delivered"),
        (facts.opened_at, "Opened"),
        (facts.clicked_at, "Clicked"),
        (facts.read_at, "Read"),
        (facts.archived_at, "Archived"),
    ):
        if at is not None:
            entries.append(TimelineEntry(at, title, tone="ok"))
    if facts.failed_at is not None:
        title = "Bounced" if facts.status == "bounced" else "Failed"
        # A failed attempt records how many attempts were made by then (a sent one, its retries).
        attempts = f"after {facts.retry_count} attempt(s)" if facts.status == "failed" else ""
        answer = _answer(facts.provider_response) if facts.status == "failed" else ""
        detail = "; ".join(part for part in (facts.error or "", answer, attempts) if part)
        entries.append(TimelineEntry(facts.failed_at, title, detail, "bad"))
    if facts.status in _SETTLED_WITHOUT_TIME:
        title, tone = _SETTLED_WITHOUT_TIME[facts.status]
        entries.append(TimelineEntry(facts.updated_at, title, facts.status_reason or "", tone))
    for resend_id, at, status in facts.resent_as:
        entries.append(TimelineEntry(at, "Resent as a new delivery", f"{resend_id} ({status})"))
    return in_time_order(entries)


def _failover(moved: dict[str, Any]) -> TimelineEntry:
    at = moved.get("at")
    when = datetime.fromisoformat(at) if isinstance(at, str) else None
    detail = str(moved.get("reason") or "")
    title = f"Failed over from {moved.get('provider')} to {moved.get('moved_to')}"
    return TimelineEntry(when, title, detail, "warn")


def _response(facts: DeliveryFacts) -> str:
    """The provider's answer as recorded: its message id and what it said."""
    parts = [f"message id {facts.provider_message_id}"] if facts.provider_message_id else []
    if facts.provider_response:
        parts.append(_answer(facts.provider_response))
    if facts.retry_count:
        parts.append(f"after {facts.retry_count} retr{'y' if facts.retry_count == 1 else 'ies'}")
    return "; ".join(parts)


def _answer(response: dict[str, Any] | None) -> str:
    """What the provider answered, as recorded: `status: 202, x-message-id: ...`."""
    return ", ".join(f"{key}: {value}" for key, value in sorted((response or {}).items()))


def in_time_order(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Oldest first; entries of equal time keep their order, entries without a time come last."""
    timed = sorted((e for e in entries if e.at is not None), key=lambda e: e.at)  # type: ignore[arg-type, return-value]
    return timed + [e for e in entries if e.at is None]
