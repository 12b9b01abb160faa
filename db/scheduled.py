"""Notifications still waiting: for their send_at, or deferred (do-not-disturb, weekends)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, Notification, Recipient
from domain.types import DeliveryStatus, NotificationStatus

WAITING = (NotificationStatus.SCHEDULED, NotificationStatus.DEFERRED)


@dataclass(frozen=True)
class ScheduledNotification:
    notification: Notification
    recipient: str  # the recipient's external id
    due_at: datetime


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
    session: AsyncSession,
    tenant_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ScheduledNotification]:
    """Earliest first, from after `after` (due time, id), at most `limit`."""
    due = _due()
    conditions = [Notification.tenant_id == tenant_id, Notification.status.in_(WAITING)]
    if after is not None:
        conditions.append(tuple_(due, Notification.id) > tuple_(*after))
    rows = await session.execute(
        select(Notification, Recipient.external_id, due.label("due_at"))
        .join(Recipient, Recipient.id == Notification.recipient_id)
        .where(*conditions)
        .order_by(due, Notification.id)
        .limit(limit)
    )
    return [ScheduledNotification(row.Notification, row.external_id, row.due_at) for row in rows]
