"""POST /v1/notifications, GET and cancel; GET /v1/logs."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from herald_client import calls
from herald_client.calls import Call
from herald_client.errors import FieldProblem, ValidationError
from herald_client.keys import KeyPart, key_from, random_key
from herald_client.models import (
    CancelOutcome,
    Channel,
    InboxOptions,
    LogPage,
    NotificationAccepted,
    NotificationCreate,
    NotificationPublic,
    Priority,
    RecipientRef,
)


def idempotency_key_of(idempotency_key: str | None, parts: Sequence[KeyPart] | None) -> str:
    """The key a keyed POST sends: the caller's, or derived from their ids, or a new one (so
    the client's own retries are replays)."""
    if idempotency_key is not None and parts is not None:
        raise ValidationError(
            "give idempotency_key or key_from, not both",
            errors=[FieldProblem("key_from", "give idempotency_key or key_from, not both")],
        )
    if parts is not None:
        return key_from(*parts)
    return idempotency_key or random_key()


def message_fields(
    event_key: str,
    context: Mapping[str, Any] | None,
    channels: Sequence[Channel] | None,
    priority: Priority,
    send_at: datetime | None,
    inbox: InboxOptions | None,
) -> dict[str, Any]:
    """What a notification and a broadcast both say (Herald's MessageFields)."""
    return {
        "event_key": event_key,
        "context": dict(context or {}),
        "channels": list(channels) if channels is not None else None,
        "priority": priority,
        "send_at": send_at,
        "inbox": inbox,
    }


def send_notification(
    recipient: RecipientRef | str,
    event_key: str,
    *,
    context: Mapping[str, Any] | None = None,
    channels: Sequence[Channel] | None = None,
    priority: Priority = "normal",
    send_at: datetime | None = None,
    inbox: InboxOptions | None = None,
    idempotency_key: str | None = None,
    key_from: Sequence[KeyPart] | None = None,
) -> Call[NotificationAccepted]:
    """Accept a notification. `recipient`: an external id, or a RecipientRef with contact
    details inline. `key_from=("order", order.id, "paid")` derives the Idempotency-Key from
    your own ids: the same ids are the same notification, however often sent."""
    body = calls.model(
        NotificationCreate,
        recipient=RecipientRef(external_id=recipient) if isinstance(recipient, str) else recipient,
        **message_fields(event_key, context, channels, priority, send_at, inbox),
    )
    return calls.send(
        "POST",
        "/v1/notifications",
        NotificationAccepted,
        body,
        idempotency_key=idempotency_key_of(idempotency_key, key_from),
    )


def get_notification(notification_id: uuid.UUID | str) -> Call[NotificationPublic]:
    """The notification's status and one delivery per channel."""
    return calls.get(
        "/v1/notifications/{notification_id}", NotificationPublic, notification_id=notification_id
    )


def cancel_notification(notification_id: uuid.UUID | str) -> Call[CancelOutcome]:
    """Stop it before it is sent (Conflict once it has finished)."""
    return calls.send(
        "POST",
        "/v1/notifications/{notification_id}/cancel",
        CancelOutcome,
        notification_id=notification_id,
    )


def list_deliveries(
    *,
    status: str | None = None,
    channel: Channel | None = None,
    event_key: str | None = None,
    recipient: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[LogPage]:
    """The delivery log (GET /v1/logs), newest first, a page at a time: pass the page's
    `next_cursor` as `cursor` for the next."""
    params = {
        "status": status,
        "channel": channel,
        "event_key": event_key,
        "recipient": recipient,
        "from": since,
        "to": until,
        "limit": limit,
        "cursor": cursor,
    }
    return calls.get("/v1/logs", LogPage, params=params)
