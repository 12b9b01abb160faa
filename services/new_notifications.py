"""Accepting a new notification: the only way one comes to exist.

`accept` is shared by every path that makes a notification: the API (services/notifications.py),
events from the payment service, template test sends, reschedules, booking chains and agendas
(through their notice activity, `submit_notice`), digests and the retry job. It stores the
notification once per (tenant, idempotency key) and starts its workflow through the one builder,
temporal_clients.notifications.start_notification.

What happens next: workflows/notification.py plans each channel (the rules: domain/policy) and
sends it with workflows/sending.py, which fails over from provider to provider (which failures
move on: domain/send_failures.py)."""

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from config.settings import Settings
from db.notifications import Created, create_notification
from db.recipients import RecipientUpsert, get_recipient
from db.session import without_transaction
from domain.booking_contracts import NoticeCreated, NoticeRequest
from domain.types import NotificationStatus, Priority
from observability.metrics import NOTIFICATIONS_ACCEPTED
from services.errors import Conflict, invalid_field
from temporal_clients.notifications import (
    NotificationStart,
    notification_workflow_id,
    start_notification,
)


@dataclass(frozen=True)
class NewNotification:
    """A notification to accept. Its recipient is one of: a known recipient's id, a known
    recipient's external id (refused when unknown), or contact details stored with it."""

    tenant_id: uuid.UUID
    event_key: str
    idempotency_key: str
    request_digest: (
        bytes  # what the key stands for: the same key with another request is a conflict
    )
    recipient_id: uuid.UUID | None = None
    recipient_external_id: str | None = None
    contact: RecipientUpsert | None = None
    priority: str = Priority.NORMAL
    channels: list[str] | None = None
    context: dict[str, Any] = field(default_factory=dict)
    send_at: datetime | None = None
    inbox_options: dict[str, Any] | None = None  # the in-app message's tags and expiry
    # Herald drew the key itself (a request without one): no other request can share it, so
    # it needs no claim against concurrent requests.
    key_is_fresh: bool = False
    # The key names the notification whatever it was made from (a workflow's notice): the
    # same key again is the same notification, never a conflict.
    key_says_all: bool = False


@dataclass(frozen=True)
class Accepted:
    notification: Any  # a row of the notifications table
    replayed: bool  # the key was seen before: this is the notification it made then


async def accept(
    session: AsyncSession, temporal: Client, settings: Settings, new: NewNotification
) -> Accepted:
    """Store the notification (once per key) and start its workflow (once per workflow id).

    Also on a replay the workflow is started: if the first call stored the row but could
    not start the workflow (Temporal unreachable), the retry starts it. `session` must be
    fresh (no transaction begun)."""
    values = dict(
        tenant_id=new.tenant_id,
        event_key=new.event_key,
        priority=new.priority,
        channels=new.channels,
        context=new.context,
        idempotency_key=new.idempotency_key,
        request_digest=new.request_digest,
        send_at=new.send_at,
        inbox_options=new.inbox_options,
        workflow_id=notification_workflow_id(new.tenant_id, new.idempotency_key),
        status=NotificationStatus.ACCEPTED,
    )
    if new.key_is_fresh:
        # A key Herald drew itself needs no claim: the notification, with the recipient's
        # inline contact details, is then one statement, atomic on its own, which runs
        # without the BEGIN and COMMIT round trips of a transaction.
        await without_transaction(session)
        created = await _create(session, new, values)
        await session.commit()  # nothing left to commit: hands the connection back
    else:
        async with session.begin():
            # The key is claimed first, in this transaction (db.notifications.
            # create_notification): under any interleaving of two requests with one key, the
            # one refused below (409) has written nothing, not even inline contact details.
            created = await _create(session, new, values)
    notification = created.notification
    if (
        created.replayed
        and not new.key_says_all
        and notification.request_digest != new.request_digest
    ):
        raise idempotency_conflict()
    await start_notification(temporal, settings, _start(notification))
    if not created.replayed:
        NOTIFICATIONS_ACCEPTED.labels(notification.priority).inc()
    return Accepted(notification, created.replayed)


async def _create(session: AsyncSession, new: NewNotification, values: dict[str, Any]) -> Created:
    recipient = new.contact or new.recipient_id or await _known_recipient(session, new)
    return await create_notification(session, values, recipient, claim_key=not new.key_is_fresh)


def _start(notification: Any) -> NotificationStart:
    return NotificationStart(
        id=notification.id,
        tenant_id=notification.tenant_id,
        event_key=notification.event_key,
        priority=notification.priority,
        workflow_id=notification.workflow_id,
        send_at=notification.send_at,
    )


async def _known_recipient(session: AsyncSession, new: NewNotification) -> uuid.UUID:
    external_id = new.recipient_external_id or ""
    recipient = await get_recipient(session, new.tenant_id, external_id)
    if recipient is None:
        raise invalid_field(
            "recipient.external_id",
            f"no recipient {external_id!r}; create it with PUT /v1/recipients/{{external_id}} "
            "or give contact details inline",
        )
    return recipient.id


async def submit_notice(
    session: AsyncSession, temporal: Client, settings: Settings, request: NoticeRequest
) -> NoticeCreated:
    """A notification a workflow sends (booking notices, agendas): the recipient's contact
    details come with it. Idempotent by the notice's key alone: a retried activity, a replayed
    event or a reschedule back to a sent time returns the notification made the first time,
    also when what it was made from has changed since (a store step run again after a lost
    workflow task reads the database again: an agenda's bookings may have moved)."""
    tenant_id = request.tenant_id
    contact = {
        k: v
        for k, v in dataclasses.asdict(request.recipient).items()
        if v is not None and k != "id"
    }
    accepted = await accept(
        session,
        temporal,
        settings,
        NewNotification(
            tenant_id=tenant_id,
            event_key=request.event_key,
            idempotency_key=request.idempotency_key,
            request_digest=idempotency_key_digest(request.idempotency_key),
            key_says_all=True,
            contact=RecipientUpsert(tenant_id, request.recipient_external_id, contact),
            channels=request.channels,
            context=request.context,
        ),
    )
    return NoticeCreated(accepted.notification.id, accepted.notification.workflow_id)


def idempotency_conflict() -> Conflict:
    """The key was used before for a request with another digest (a notification's or a
    broadcast's): 409, and the request writes nothing."""
    return Conflict(
        "Idempotency-Key: this key was already used for a different request",
        "Idempotency-Key",
        code="idempotency_conflict",
    )


def idempotency_key_digest(idempotency_key: str) -> bytes:
    """The request digest of a notification Herald makes itself: its key says all it is."""
    return hashlib.sha256(idempotency_key.encode()).digest()


def request_digest(request: dict[str, Any]) -> bytes:
    """What a request stands for: the same key with another request is a conflict."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).digest()
