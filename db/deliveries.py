"""Queries the notification workflow's activities run: plan, load, record."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, InAppMessage, Notification, Recipient, Tenant
from domain.types import DeliveryStatus

DELIVERY_NAMESPACE = uuid.UUID("6f1d3a52-3c1e-4d8a-9a63-0d5b1c1e7e11")
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)


def delivery_id_for(notification_id: uuid.UUID, channel: str, chain: int = 0) -> uuid.UUID:
    """Deterministic, so a retried plan step finds the rows it already wrote."""
    return uuid.uuid5(DELIVERY_NAMESPACE, f"{notification_id}:{channel}:{chain}")


@dataclass
class NotificationContext:
    notification: Notification
    recipient: Recipient
    preference_defaults: dict[str, Any]


async def load_notification_context(
    session: AsyncSession, notification_id: uuid.UUID, tenant_id: uuid.UUID
) -> NotificationContext | None:
    row = (
        await session.execute(
            select(Notification, Recipient, Tenant.preference_defaults)
            .join(Recipient, Recipient.id == Notification.recipient_id)
            .join(Tenant, Tenant.id == Notification.tenant_id)
            .where(Notification.id == notification_id, Notification.tenant_id == tenant_id)
        )
    ).one_or_none()
    return NotificationContext(*row) if row else None


async def existing_deliveries(session: AsyncSession, notification_id: uuid.UUID) -> list[Delivery]:
    result = await session.scalars(
        select(Delivery).where(Delivery.notification_id == notification_id).order_by(Delivery.created_at)
    )
    return list(result)


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Delivery).values(rows).on_conflict_do_nothing())


@dataclass
class DeliveryJob:
    delivery: Delivery
    notification: Notification
    recipient: Recipient


async def load_delivery_job(
    session: AsyncSession, delivery_id: uuid.UUID, tenant_id: uuid.UUID
) -> DeliveryJob | None:
    row = (
        await session.execute(
            select(Delivery, Notification, Recipient)
            .join(Notification, Notification.id == Delivery.notification_id)
            .join(Recipient, Recipient.id == Notification.recipient_id)
            .where(Delivery.id == delivery_id, Delivery.tenant_id == tenant_id)
        )
    ).one_or_none()
    return DeliveryJob(*row) if row else None


async def update_delivery(session: AsyncSession, delivery_id: uuid.UUID, **values: Any) -> None:
    values["updated_at"] = values.get("updated_at") or now()
    await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def close_open_deliveries(
    session: AsyncSession, delivery_id: uuid.UUID, status: str, **values: Any
) -> None:
    """Move a delivery to a final status only if nothing has finished it yet (statuses move forward)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(OPEN_STATUSES))
        .values(status=status, updated_at=now(), **values)
    )


async def set_notification_status(
    session: AsyncSession, notification_id: uuid.UUID, status: str
) -> None:
    await session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(status=status, updated_at=now())
    )


async def store_in_app_message(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(InAppMessage).values(**values).on_conflict_do_nothing())


def now() -> datetime:
    return datetime.now(timezone.utc)
