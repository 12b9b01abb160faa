"""Notifications still waiting: for their send_at, or deferred (do-not-disturb, weekends)."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, Notification, Recipient
from domain.types import DeliveryStatus, NotificationStatus

WAITING = (NotificationStatus.SCHEDULED, NotificationStatus.DEFERRED)


def _due():
    """The earliest deferral of its channels, else its send_at."""
    deferred = (
        select(func.min(Delivery.deferred_until))
        .where(
            Delivery.notification_id == Notification.id, Delivery.status == DeliveryStatus.DEFERRED
        )
        .scalar_subquery()
    )
    return func.coalesce(deferred, Notification.send_at)


async def scheduled_notifications(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int
) -> list[tuple]:
    """(notification, recipient external id, due time), earliest first."""
    due = _due().label("due_at")
    rows = await session.execute(
        select(Notification, Recipient.external_id, due)
        .join(Recipient, Recipient.id == Notification.recipient_id)
        .where(Notification.tenant_id == tenant_id, Notification.status.in_(WAITING))
        .order_by(due, Notification.id)
        .limit(limit)
    )
    return [tuple(row) for row in rows.all()]
