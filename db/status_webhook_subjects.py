"""A status webhook's subject as it is now: the `data` of the payload each attempt sends
(domain/status_webhooks.subject_data makes it JSON). Columns are named as the payload names
them; recipient_* nest under "recipient"."""

import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.broadcast_models import Broadcast
from db.models import Delivery, Notification, Recipient
from domain.status_webhooks import Subject


def _delivery_state(subject_id: uuid.UUID, tenant_id: uuid.UUID) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Delivery.id.label("delivery_id"),
            Delivery.notification_id,
            Notification.broadcast_id,
            Notification.event_key,
            Delivery.channel,
            Delivery.status,
            Delivery.status_reason,
            Delivery.provider,
            Delivery.provider_message_id,
            Recipient.id.label("recipient_id"),
            Recipient.external_id.label("recipient_external_id"),
            Delivery.created_at,
            Delivery.deferred_until,
            Delivery.sent_at,
            Delivery.delivered_at,
            Delivery.opened_at,
            Delivery.clicked_at,
            Delivery.failed_at,
            Delivery.updated_at,
        )
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Recipient, Recipient.id == Notification.recipient_id)
        .where(Delivery.id == subject_id, Delivery.tenant_id == tenant_id)
    )


def _notification_state(subject_id: uuid.UUID, tenant_id: uuid.UUID) -> Select[*tuple[Any, ...]]:
    deferred_until = (
        select(func.min(Delivery.deferred_until))
        .where(Delivery.notification_id == Notification.id, Delivery.status == "deferred")
        .scalar_subquery()
    )
    return (
        select(
            Notification.id.label("notification_id"),
            Notification.broadcast_id,
            Notification.event_key,
            Notification.priority,
            Notification.status,
            Notification.status_reason,
            Recipient.id.label("recipient_id"),
            Recipient.external_id.label("recipient_external_id"),
            Notification.send_at,
            deferred_until.label("deferred_until"),
            Notification.created_at,
            Notification.updated_at,
        )
        .join(Recipient, Recipient.id == Notification.recipient_id)
        .where(Notification.id == subject_id, Notification.tenant_id == tenant_id)
    )


def _broadcast_state(subject_id: uuid.UUID, tenant_id: uuid.UUID) -> Select[*tuple[Any, ...]]:
    return select(
        Broadcast.id.label("broadcast_id"),
        Broadcast.event_key,
        Broadcast.status,
        Broadcast.total,
        Broadcast.planned,
        Broadcast.sent,
        Broadcast.suppressed,
        Broadcast.deferred,
        Broadcast.failed,
        Broadcast.created_at,
        Broadcast.started_at,
        Broadcast.finished_at,
        func.coalesce(Broadcast.finished_at, Broadcast.started_at, Broadcast.created_at).label(
            "updated_at"
        ),
    ).where(Broadcast.id == subject_id, Broadcast.tenant_id == tenant_id)


_STATES = {
    Subject.DELIVERY: _delivery_state,
    Subject.NOTIFICATION: _notification_state,
    Subject.BROADCAST: _broadcast_state,
}


async def subject_state(
    session: AsyncSession, subject: Subject, subject_id: uuid.UUID, tenant_id: uuid.UUID
) -> dict[str, Any] | None:
    """The subject's columns now; None when it is gone (purged, erased)."""
    row = (await session.execute(_STATES[subject](subject_id, tenant_id))).one_or_none()
    return dict(row._mapping) if row else None
