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
    """Earliest first, from after `after` (due time, id), at most `limit`.

    The page is chosen first, then only its rows are read whole and joined to their
    recipients: joining every waiting notification to its recipient before the LIMIT made
    PostgreSQL hash the tenant's whole recipients table (130 ms at 50,000 recipients)."""
    due = _due()
    conditions = [Notification.tenant_id == tenant_id, Notification.status.in_(WAITING)]
    if after is not None:
        conditions.append(tuple_(due, Notification.id) > tuple_(*after))
    page = (
        select(Notification.id, due.label("due_at"))
        .where(*conditions)
        .order_by(due, Notification.id)
        .limit(limit)
        .subquery("page")
    )
    rows = await session.execute(
        select(Notification, Recipient.external_id, page.c.due_at)
        .join(page, page.c.id == Notification.id)
        .join(Recipient, Recipient.id == Notification.recipient_id)
        .order_by(page.c.due_at, Notification.id)
    )
    return [ScheduledNotification(row.Notification, row.external_id, row.due_at) for row in rows]
