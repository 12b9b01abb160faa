"""The delivery log: every delivery of a tenant, filtered, newest first."""

import uuid
from collections.abc import Sequence

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, Notification, Recipient
from domain.filters import LogFilter


async def list_logs(
    session: AsyncSession, tenant_id: uuid.UUID, filters: LogFilter, limit: int
) -> Sequence[Row]:
    """Rows of `Delivery`, its notification's `event_key` and the `recipient`'s external id.

    Newest first, keyset-paginated on (created_at, id) so deep pages stay cheap."""
    query = (
        select(Delivery, Notification.event_key, Recipient.external_id.label("recipient"))
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Recipient, Recipient.id == Notification.recipient_id)
        .where(Delivery.tenant_id == tenant_id)
    )
    if filters.status:
        query = query.where(Delivery.status == filters.status)
    if filters.channel:
        query = query.where(Delivery.channel == filters.channel)
    if filters.event_key:
        query = query.where(Notification.event_key == filters.event_key)
    if filters.recipient:
        query = query.where(Recipient.external_id == filters.recipient)
    if filters.since:
        query = query.where(Delivery.created_at >= filters.since)
    if filters.until:
        query = query.where(Delivery.created_at < filters.until)
    if filters.after:
        created, last_id = filters.after
        query = query.where(
            or_(
                Delivery.created_at < created,
                and_(Delivery.created_at == created, Delivery.id < last_id),
            )
        )
    query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    return (await session.execute(query)).all()
