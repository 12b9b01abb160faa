"""/v1/broadcasts: create, read, list, pause, resume, cancel."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from herald_client import calls
from herald_client.calls import Call
from herald_client.keys import KeyPart
from herald_client.models import (
    Audience,
    BroadcastAccepted,
    BroadcastCreate,
    BroadcastPage,
    BroadcastProgressPublic,
    BroadcastPublic,
    Channel,
    InboxOptions,
    Priority,
)
from herald_client.operations.notifications import idempotency_key_of, message_fields

BROADCAST = "/v1/broadcasts/{broadcast_id}"


def create_broadcast(
    audience: Audience,
    event_key: str,
    *,
    context: Mapping[str, Any] | None = None,
    channels: Sequence[Channel] | None = None,
    priority: Priority = "normal",
    send_at: datetime | None = None,
    inbox: InboxOptions | None = None,
    idempotency_key: str | None = None,
    key_from: Sequence[KeyPart] | None = None,
) -> Call[BroadcastAccepted]:
    """One notification to a whole audience: `Audience(recipients=[...])`,
    `Audience(topic="newsletter")` or `Audience(all=True)`."""
    body = calls.model(
        BroadcastCreate,
        audience=audience,
        **message_fields(event_key, context, channels, priority, send_at, inbox),
    )
    return calls.send(
        "POST",
        "/v1/broadcasts",
        BroadcastAccepted,
        body,
        idempotency_key=idempotency_key_of(idempotency_key, key_from),
    )


def get_broadcast(broadcast_id: uuid.UUID | str) -> Call[BroadcastPublic]:
    """The broadcast and its progress: planned, sent, suppressed, deferred, failed, rate, ETA."""
    return calls.get(BROADCAST, BroadcastPublic, broadcast_id=broadcast_id)


def list_broadcasts(*, limit: int | None = None, cursor: str | None = None) -> Call[BroadcastPage]:
    return calls.get("/v1/broadcasts", BroadcastPage, params={"limit": limit, "cursor": cursor})


def _steer(action: str, broadcast_id: uuid.UUID | str) -> Call[BroadcastProgressPublic]:
    return calls.send(
        "POST",
        f"{BROADCAST}/{action}",
        BroadcastProgressPublic,
        # A lost answer retried could meet the broadcast already changed: a Conflict, not a
        # second change, but not the first answer either.
        idempotent=False,
        broadcast_id=broadcast_id,
    )


def pause_broadcast(broadcast_id: uuid.UUID | str) -> Call[BroadcastProgressPublic]:
    return _steer("pause", broadcast_id)


def resume_broadcast(broadcast_id: uuid.UUID | str) -> Call[BroadcastProgressPublic]:
    return _steer("resume", broadcast_id)


def cancel_broadcast(broadcast_id: uuid.UUID | str) -> Call[BroadcastProgressPublic]:
    return _steer("cancel", broadcast_id)
